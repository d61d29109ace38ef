import type { FastifyInstance } from 'fastify';
import { systemCard } from '../../api/card.js';
import type { ServerContext } from '../context.js';
import { errorResponse, nameParams } from '../schemas.js';

/** `GET /collections/:name/card`: the system card (`quarry card`), as Markdown. */
export function registerCardRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { name: string } }>(
    '/collections/:name/card',
    {
      schema: {
        tags: ['collections'],
        summary: "The collection's system card (`quarry card`): data and lineage, model and fingerprint check, chunking, index, evaluations, alerts, limitations, versions; Markdown",
        params: nameParams,
      },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: { type: 'string', description: 'text/markdown' }, 404: errorResponse } },
    },
    async (request, reply) => {
      // The fingerprint is checked with the server's own copy of the model (loaded once, shared).
      const { markdown } = await systemCard({
        dataDir: ctx.dataDir,
        collection: request.params.name,
        modelsDir: ctx.modelsDir,
        dataDirLabel: '<data>', // like GET /collections/{name}, never the server's own path
        loadEmbedder: (ref) => ctx.registry.embedderForNew(ref),
      });
      return reply.type('text/markdown; charset=utf-8').send(markdown);
    },
  );
}
