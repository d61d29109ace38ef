/**
 * Model upgrades over HTTP: the collection's generations (live, shadow, kept for rollback),
 * a reindex into a shadow generation (a background job: it can take minutes), the held-out
 * judgments, promotion through the gate, and rollback to the previous generation. The same
 * verbs as `quarry reindex | promote | rollback | judgments` (src/api/generations.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { listGenerations, promote, reindex, rollbackGeneration, setJudgments } from '../../api/generations.js';
import type { IndexSettings } from '../../store/manifest.js';
import type { ServerContext } from '../context.js';
import { actorOf } from '../auth.js';
import { HttpError, toHttpError } from '../http-errors.js';
import { SEARCH_MODES } from '../../retrieve/modes.js';
import { errorResponse, generationsResponse, indexSettings, modelRef, nameParams, reindexAccepted, reindexJob, switchReport } from '../schemas.js';

/** A background reindex as GET generations shows it: the schema's type, so the job cannot send what it does not document. */
type ReindexJob = FromSchema<typeof reindexJob>;

const reindexBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: modelRef,
    chunkTokens: { type: 'integer', minimum: 8, maximum: 8192 },
    overlapTokens: { type: 'integer', minimum: 0, maximum: 4096 },
    index: indexSettings,
  },
} as const;

const promoteBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tolerance: { type: 'number', minimum: 0, maximum: 1, description: 'largest allowed drop of nDCG@10 and Recall@100 (default 0.005: half a point)' },
    mode: { type: 'string', enum: [...SEARCH_MODES] },
    force: { type: 'boolean', description: 'promote even if the gate refuses or no judgments are set (written to the audit log)' },
  },
} as const;

const judgmentsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['queries'],
  properties: {
    queries: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['query'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 200 },
          query: { type: 'string', minLength: 1, maxLength: 4096 },
          expected: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 1024 } },
          relevant: { type: 'object', maxProperties: 1000, additionalProperties: { type: 'number' } },
        },
      },
    },
  },
} as const;

export function registerGenerationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const jobs = new Map<string, ReindexJob>();
  const opts = (name: string) => ({ dataDir: ctx.dataDir, collection: name, modelsDir: ctx.modelsDir, loadEmbedder: ctx.loadEmbedder });

  app.get<{ Params: { name: string } }>(
    '/collections/:name/generations',
    {
      schema: { tags: ['generations'], summary: 'The generations of a collection (live, shadow, kept for rollback), the last reindex job and what the canary compared; needs read', params: nameParams },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: generationsResponse, 404: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      const d = await listGenerations({ dataDir: ctx.dataDir, collection: name });
      return { ...d, reindex: jobs.get(name) ?? null, canary: ctx.registry.canaryStats(name) };
    },
  );

  app.post<{ Params: { name: string }; Body: { model?: string; chunkTokens?: number; overlapTokens?: number; index?: IndexSettings } }>(
    '/collections/:name/generations',
    {
      schema: {
        tags: ['generations'],
        summary: 'Build a shadow generation (model, chunking, index) beside the live one, which keeps serving; answers 202 at once, GET generations shows the job; needs admin',
        params: nameParams,
        body: reindexBody,
      },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 202: reindexAccepted, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
    },
    async (request, reply) => {
      const { name } = request.params;
      await listGenerations({ dataDir: ctx.dataDir, collection: name }); // 404 before a job starts
      if (jobs.get(name)?.status === 'running') throw new HttpError(409, 'REINDEX_RUNNING', `a reindex of "${name}" is already running; see GET /collections/${name}/generations`);
      const job: ReindexJob = { collection: name, status: 'running', startedAt: new Date().toISOString() };
      jobs.set(name, job);
      const body = request.body;
      ctx.track(
        reindex({
          ...opts(name),
          actor: actorOf(request),
          model: body.model,
          chunkTokens: body.chunkTokens,
          overlapTokens: body.overlapTokens,
          index: body.index,
          batchChunks: ctx.ingestBatchChunks,
          onProgress: (p) => (job.progress = p),
        }).then(
          (report) => Object.assign(job, { status: 'done', report, finishedAt: new Date().toISOString() } satisfies Partial<ReindexJob>),
          (e: unknown) => {
            // like a request's error: the server's paths out, a 5xx logged under the id it cites
            const answer = toHttpError(e, request.id, ctx.redact);
            if (answer.status >= 500) request.log.error({ err: e, collection: name }, 'reindex job failed');
            return Object.assign(job, { status: 'failed', finishedAt: new Date().toISOString(), error: answer.body.error } satisfies Partial<ReindexJob>);
          },
        ),
      );
      return reply.code(202).header('location', `/collections/${encodeURIComponent(name)}/generations`).send({ reindex: job });
    },
  );

  app.put<{ Params: { name: string }; Body: { queries: unknown[] } }>(
    '/collections/:name/judgments',
    {
      schema: { tags: ['generations'], summary: "Set the collection's held-out queries and relevant documents, which the promotion gate runs; needs admin", params: nameParams, body: judgmentsBody },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 200: { type: 'object' }, 400: errorResponse, 404: errorResponse } },
    },
    async (request) => setJudgments({ dataDir: ctx.dataDir, collection: request.params.name, actor: actorOf(request), records: request.body.queries }),
  );

  app.post<{ Params: { name: string }; Body: { tolerance?: number; mode?: string; force?: boolean } }>(
    '/collections/:name/promote',
    {
      schema: {
        tags: ['generations'],
        summary: 'Judge the shadow against live on the held-out queries and make it live only if it is not worse (409 GATE_REFUSED with both rows otherwise); needs admin',
        params: nameParams,
        body: promoteBody,
      },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 200: switchReport, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      return ctx.registry.deploymentChange(name, () => promote({ ...opts(name), actor: actorOf(request), ...request.body }));
    },
  );

  app.post<{ Params: { name: string } }>(
    '/collections/:name/generations/rollback',
    {
      schema: { tags: ['generations'], summary: 'Make the generation that was live before the current one live again; needs admin', params: nameParams },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 200: switchReport, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      return ctx.registry.deploymentChange(name, () => rollbackGeneration({ ...opts(name), actor: actorOf(request) }));
    },
  );
}
