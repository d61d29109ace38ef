import type { FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE, metricsText } from '../../observe/metrics.js';
import type { ServerContext } from '../context.js';
import { ALL_COLLECTIONS, keyCoversCollection, type KeyInfo } from '../keys.js';
import { errorResponse } from '../schemas.js';

/** The `collection` label of a sample line (collection names never need escaping: see validateCollectionName). */
const COLLECTION_LABEL = /[{,]collection="([^"]*)"/;

/**
 * The exposition text without the samples of collections the key does not cover, so a key
 * for some collections sees their series and the server-wide ones (HTTP, embedding), never
 * another tenant's counts, sizes or latencies.
 */
export function metricsFor(text: string, key: KeyInfo): string {
  if (key.collections.includes(ALL_COLLECTIONS)) return text;
  return text
    .split('\n')
    .filter((line) => {
      if (line.startsWith('#')) return true;
      const m = COLLECTION_LABEL.exec(line);
      return !m || keyCoversCollection(key, m[1]);
    })
    .join('\n');
}

/**
 * Prometheus metrics (text format); the size gauges are brought up to date on each scrape.
 * Needs a key with the admin or metrics scope (`quarry keys create --scope metrics` for a
 * scraper); series labelled with a collection are shown for the key's collections only.
 */
export function registerMetricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/metrics',
    {
      schema: { tags: ['operations'], summary: "Prometheus metrics in the text exposition format; needs admin or metrics, shows the key's collections only" },
      config: { auth: { scope: 'metrics' }, docs: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' }, 401: errorResponse, 403: errorResponse } },
    },
    async (request, reply) => {
      await ctx.registry.updateAllGauges();
      return reply.type(METRICS_CONTENT_TYPE).send(metricsFor(await metricsText(), request.apiKey!));
    },
  );
}
