import type { FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE, metricsText } from '../../observe/metrics.js';
import type { ServerContext } from '../context.js';
import { errorResponse } from '../schemas.js';

/** Prometheus metrics (text format); the size gauges are brought up to date on each scrape. */
export function registerMetricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/metrics',
    {
      schema: { tags: ['operations'], summary: 'Prometheus metrics in the text exposition format' },
      config: { auth: { scope: 'read' }, docs: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' }, 401: errorResponse } },
    },
    async (_request, reply) => {
      await ctx.registry.updateAllGauges();
      return reply.type(METRICS_CONTENT_TYPE).send(await metricsText());
    },
  );
}
