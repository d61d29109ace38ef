import type { FastifyInstance } from 'fastify';
import { listCollections } from '../../api/collections.js';
import { info } from '../../api/info.js';
import { removeEvalHistory } from '../../eval/history.js';
import type { IndexSettings } from '../../store/manifest.js';
import type { ServerContext } from '../context.js';
import { actorOf, authorizeCollection, keyMaySee } from '../auth.js';
import { collectionInfoResponse, collectionSummary, createCollectionBody, errorResponse, nameParams } from '../schemas.js';

interface CreateBody {
  name: string;
  model?: string;
  chunkTokens?: number;
  overlapTokens?: number;
  index?: IndexSettings;
}

export function registerCollectionRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/collections',
    {
      schema: { tags: ['collections'], summary: 'The collections this key may use, with model, counts, version and serving state' },
      config: {
        auth: { scope: 'read' },
        docs: { 200: { type: 'object', properties: { collections: { type: 'array', items: collectionSummary } } }, 401: errorResponse },
      },
    },
    async (request) => {
      await ctx.registry.discover();
      const all = await listCollections({ dataDir: ctx.dataDir });
      const collections = all
        .filter((c) => keyMaySee(request, c.name))
        .map((c) => ({ ...c, state: ctx.registry.statusFor(c.name)?.state ?? 'loading' }));
      return { collections };
    },
  );

  app.post<{ Body: CreateBody }>(
    '/collections',
    {
      schema: { tags: ['collections'], summary: 'Create an empty collection (model, chunking, index settings); needs admin', body: createCollectionBody },
      config: { auth: { scope: 'admin' }, docs: { 201: collectionSummary, 400: errorResponse, 403: errorResponse, 409: errorResponse } },
    },
    async (request, reply) => {
      const { name, ...settings } = request.body;
      authorizeCollection(request, name, 'admin');
      // createCollection records the actor in the audit log (the registry passes the settings on)
      const withActor = { ...settings, actor: actorOf(request) };
      const { summary, status } = await ctx.registry.create(name, withActor);
      return reply
        .code(201)
        .header('location', `/collections/${encodeURIComponent(name)}`)
        .send({ ...summary, state: status.state, ...(status.error ? { error: status.error } : {}) });
    },
  );

  app.get<{ Params: { name: string } }>(
    '/collections/:name',
    {
      schema: { tags: ['collections'], summary: "What a collection holds and how it was built (`quarry info --json`), its serving state, and the memory its warm indexes take (`memory.bytes`)", params: nameParams },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: collectionInfoResponse, 404: errorResponse } },
    },
    async (request) => {
      const { path: _path, ...rest } = await info({ dataDir: ctx.dataDir, collection: request.params.name });
      const status = ctx.registry.statusFor(request.params.name);
      // the warm view's indexes, as quarry_index_memory_bytes reports them (null while not serving)
      const memory = { bytes: ctx.registry.memoryBytes(request.params.name) ?? null };
      return { ...rest, memory, state: status?.state ?? 'loading', ...(status?.error ? { error: status.error } : {}) };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/collections/:name',
    {
      schema: { tags: ['collections'], summary: 'Delete a whole collection (refused while another process writes it); needs admin', params: nameParams },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 200: { type: 'object' }, 404: errorResponse, 409: errorResponse } },
    },
    async (request) => {
      // deleteCollection records the actor in the audit log.
      await ctx.registry.delete(request.params.name, actorOf(request));
      await removeEvalHistory(ctx.dataDir, request.params.name);
      return { collection: request.params.name, deleted: true };
    },
  );
}
