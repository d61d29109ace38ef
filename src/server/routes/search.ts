import type { FastifyInstance } from 'fastify';
import { searchSession, type SearchOptions } from '../../api/search.js';
import type { ServerContext } from '../app.js';
import { errorResponse, nameParams, searchBody, searchResponse } from '../schemas.js';

type SearchBody = Pick<
  SearchOptions,
  'k' | 'offset' | 'mode' | 'minScore' | 'fusion' | 'rrfK' | 'window' | 'bm25' | 'rerank' | 'rerankTopN' | 'rerankWeight' | 'params'
> & { query: string; filter?: Record<string, unknown>; weights?: Record<string, number> };

/**
 * Search through the collection's warm session: the same core call as `quarry search`, so
 * the answer is the object `quarry search --json` prints. The X-Quarry-Version header names
 * the version the search saw (one version, whatever is being written meanwhile).
 */
export function registerSearchRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Params: { name: string }; Body: SearchBody }>(
    '/collections/:name/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search a collection: vector, bm25 or hybrid, with filters, cutoff, tier-2 rerank and pagination; needs read',
        params: nameParams,
        body: searchBody,
      },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: searchResponse, 400: errorResponse, 404: errorResponse, 413: errorResponse, 503: errorResponse } },
    },
    async (request, reply) => {
      const started = performance.now();
      const { query, ...opts } = request.body;
      const lease = await ctx.registry.acquire(request.params.name);
      try {
        if (opts.rerank) await ctx.registry.reranker.ready();
        const res = await searchSession(
          { collection: lease.view.collection, session: lease.view.session, embedder: lease.embedder, reranker: ctx.registry.reranker },
          query,
          opts,
          started,
        );
        return reply.header('x-quarry-version', String(lease.view.generation)).send(res);
      } finally {
        lease.release();
      }
    },
  );
}
