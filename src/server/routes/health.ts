import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { keyMayObserve, keyMaySee } from '../auth.js';
import { errorResponse, readinessResponse } from '../schemas.js';

/**
 * /healthz: liveness only (the process answers), no key needed. /readyz: 503 until every
 * collection has finished loading (model verified against its fingerprint, indexes loaded,
 * one warm-up query run), then 200; a collection that cannot serve (model mismatch or
 * drift, damaged files) is listed with its reason while the others serve.
 *
 * The bare status (`{ ready }` and the status code) needs no key, for load balancers and
 * orchestrator probes. The list of collections is shown only to a key with the admin or
 * metrics scope, and only the collections that key covers: a tenant's key never learns
 * another tenant's collection names, versions or models.
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
      schema: {
        tags: ['operations'],
        summary:
          'Readiness: 200 once every collection is loaded, verified and warmed, else 503. No key needed for the bare status; an admin or metrics key also gets the state of each collection it covers',
        security: [{}, { bearer: [] }],
      },
      config: { auth: { optional: true }, docs: { 200: readinessResponse, 503: readinessResponse, 401: errorResponse } },
    },
    async (request, reply) => {
      await ctx.registry.discover();
      const status = ctx.registry.status();
      const body = keyMayObserve(request) ? { ready: status.ready, collections: status.collections.filter((c) => keyMaySee(request, c.name)) } : { ready: status.ready };
      return reply.code(status.ready ? 200 : 503).send(body);
    },
  );
}
