import type { FastifyInstance } from 'fastify';
import { searchSession, type SearchOptions } from '../../api/search.js';
import { CollectionNotFoundError } from '../../errors.js';
import { LatencyWindows } from '../../observe/latency-window.js';
import { collectionExists } from '../../store/collection.js';
import type { ServerContext } from '../context.js';
import { errorResponse, latencyStatsResponse, nameParams, searchBody, searchResponse } from '../schemas.js';

type SearchBody = Pick<
  SearchOptions,
  'k' | 'offset' | 'mode' | 'minScore' | 'chunks' | 'fusion' | 'rrfK' | 'window' | 'bm25' | 'rerank' | 'rerankTopN' | 'rerankWeight' | 'params' | 'highlight'
> & { query: string; filter?: Record<string, unknown>; weights?: Record<string, number> };

/**
 * Search through the collection's warm session: the same core call as `quarry search`, so
 * the answer is the object `quarry search --json` prints. The X-Quarry-Version header names
 * the version the search saw (one version, whatever is being written meanwhile).
 *
 * Each answered search's time (as the client waits for it, from the handler's start) goes
 * into a rolling window per collection and mode, which GET /collections/:name/stats reads.
 */
export function registerSearchRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const latency = new LatencyWindows();
  app.post<{ Params: { name: string }; Body: SearchBody }>(
    '/collections/:name/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search a collection: hybrid (default), vector or bm25, with filters, cosine cutoff, tier-2 rerank and pagination; documents with their best passages (or chunks); needs read',
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
          { session: lease.view.session, embedder: lease.embedder, reranker: ctx.registry.reranker },
          query,
          opts,
          started,
        );
        latency.record(request.params.name, opts.rerank ? `${res.mode}+rerank` : res.mode, performance.now() - started);
        // the canary (a share of searches, when a shadow generation exists) runs after this answer is sent
        setImmediate(() =>
          ctx.registry.canary(request.params.name, res, (view) =>
            searchSession(
              { session: view.session, embedder: view.embedder, reranker: ctx.registry.reranker },
              query,
              { ...opts, k: 10, offset: 0, minScore: undefined, highlight: false, observe: false },
            ),
          ),
        );
        return reply.header('x-quarry-version', String(lease.view.generation)).send(res);
      } finally {
        lease.release();
      }
    },
  );

  app.get<{ Params: { name: string } }>(
    '/collections/:name/stats',
    {
      schema: {
        tags: ['search'],
        summary: "This server's search latency over its most recent searches of a collection (p50/p95/p99 per mode); needs read",
        params: nameParams,
      },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: latencyStatsResponse, 404: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      if (!collectionExists(ctx.dataDir, name)) {
        latency.forget(name);
        throw new CollectionNotFoundError(name, ctx.dataDir);
      }
      return { collection: name, ...latency.stats(name) };
    },
  );
}
