import type { FastifyInstance } from 'fastify';
import { systemCard } from '../../api/card.js';
import { isQuarryError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { errorResponse, nameParams } from '../schemas.js';

/**
 * `GET /collections/:name/card`: the system card (`quarry card`), as Markdown. A collection
 * that failed to load (damaged files) has no card to give: 503 with the reason, like its
 * searches, never a 500 (issue 14). One refused for its model still has one: the card shows
 * the fingerprint check that refused it.
 */
export function registerCardRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { name: string } }>(
    '/collections/:name/card',
    {
      schema: {
        tags: ['collections'],
        summary: "The collection's system card (`quarry card`): data and lineage, model and fingerprint check, chunking, index, evaluations, alerts, limitations, versions; Markdown",
        params: nameParams,
      },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: { type: 'string', description: 'text/markdown' }, 404: errorResponse, 503: errorResponse } },
    },
    async (request, reply) => {
      const { name } = request.params;
      const unavailable = (why: string) => new HttpError(503, 'COLLECTION_UNAVAILABLE', `collection "${name}" is not serving, so it has no card: ${why}`);
      const status = ctx.registry.statusFor(name);
      if (status?.state === 'failed') throw unavailable(status.error?.message ?? 'it failed to load');
      try {
        // The fingerprint is checked with the server's own copy of the model (loaded once, shared).
        const { markdown } = await systemCard({
          dataDir: ctx.dataDir,
          collection: name,
          modelsDir: ctx.modelsDir,
          dataDirLabel: '<data>', // like GET /collections/{name}, never the server's own path
          loadEmbedder: (ref) => ctx.registry.embedderForNew(ref),
        });
        return reply.type('text/markdown; charset=utf-8').send(markdown);
      } catch (e) {
        // damaged since it loaded (or before the server looked): the same answer
        if (isQuarryError(e) && e.category === 'integrity') throw unavailable(ctx.redact(e.message));
        throw e;
      }
    },
  );
}
