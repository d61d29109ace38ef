import type { FastifyInstance } from 'fastify';
import { deleteDocuments } from '../../api/delete-documents.js';
import { upsertDocuments, type DocumentInput } from '../../api/upsert-documents.js';
import { withSpan } from '../../observe/tracing.js';
import type { ServerContext } from '../context.js';
import { actorOf } from '../auth.js';
import { deleteDocumentsBody, errorResponse, indexReport, LIMITS, nameParams, upsertDocumentsBody } from '../schemas.js';

export function registerDocumentRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Params: { name: string }; Body: { documents: DocumentInput[] } }>(
    '/collections/:name/documents',
    {
      bodyLimit: LIMITS.documentsBodyBytes,
      schema: {
        tags: ['documents'],
        summary: 'Add or replace documents by id (one new version; unchanged documents are skipped); needs write',
        params: nameParams,
        body: upsertDocumentsBody,
      },
      config: { auth: { scope: 'write', collection: 'param' }, docs: { 200: indexReport, 400: errorResponse, 404: errorResponse, 409: errorResponse, 413: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      const docs = request.body.documents;
      return ctx.registry.write(name, (embedder) =>
        withSpan('quarry.ingest', { 'quarry.collection': name }, () =>
          upsertDocuments(docs, { dataDir: ctx.dataDir, collection: name, embedder, batchChunks: ctx.ingestBatchChunks, actor: actorOf(request) }),
        ),
      );
    },
  );

  app.delete<{ Params: { name: string }; Body: { ids: string[] } }>(
    '/collections/:name/documents',
    {
      bodyLimit: LIMITS.deleteBodyBytes,
      schema: { tags: ['documents'], summary: 'Delete documents by id (one new version); needs write', params: nameParams, body: deleteDocumentsBody },
      config: { auth: { scope: 'write', collection: 'param' }, docs: { 200: { type: 'object' }, 400: errorResponse, 404: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      return ctx.registry.write(name, () => deleteDocuments(request.body.ids, { dataDir: ctx.dataDir, collection: name }));
    },
  );
}
