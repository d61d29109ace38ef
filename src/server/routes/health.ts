import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorResponse, readinessResponse } from '../schemas.js';

/**
 * /healthz: liveness only (the process answers), no key needed. /readyz: 503 until every
 * collection has finished loading (model verified against its fingerprint, indexes loaded,
 * one warm-up query run), then 200; a collection that cannot serve (model mismatch or
 * drift, damaged files) is listed with its reason while the others serve.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/healthz',
    {
      schema: { tags: ['operations'], summary: 'Liveness: the process answers (no key needed)', security: [] },
      config: { auth: { public: true }, docs: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: { tags: ['operations'], summary: 'Readiness: 200 once every collection is loaded, verified and warmed' },
      config: { auth: { scope: 'read' }, docs: { 200: readinessResponse, 503: readinessResponse, 401: errorResponse } },
    },
    async (_request, reply) => {
      await ctx.registry.discover();
      const status = ctx.registry.status();
      return reply.code(status.ready ? 200 : 503).send(status);
    },
  );
}
