/**
 * Evaluation runs over HTTP. A run ingests a BEIR folder's corpus into the collection and
 * scores every judged query (src/api/evaluate.ts), which takes minutes on a real corpus, so
 * it is a job: POST answers 202 with its id, GET polls it. The dataset must lie under the
 * server's datasets root (symbolic links resolved), so a client cannot point the server at
 * any folder. A finished run sets the evaluation gauges in /metrics (nDCG@10, Recall@100);
 * with `baseline: true` it also becomes the baseline the alert rules compare against, kept
 * in <dataDir>/eval-baselines.json across restarts. Every finished run is appended to the
 * collection's evaluation history (src/eval/history.ts), which outlives the jobs.
 */
import { realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { evaluate, type EvalReport } from '../../api/evaluate.js';
import { CollectionNotFoundError } from '../../errors.js';
import { appendEvalHistory, historyEntry, readEvalHistory } from '../../eval/history.js';
import { setEvalGauges } from '../../observe/metrics.js';
import { withSpan } from '../../observe/tracing.js';
import { collectionExists } from '../../store/collection.js';
import type { ServerContext } from '../context.js';
import type { Baseline } from '../evaluation-jobs.js';
import { HttpError, toHttpError } from '../http-errors.js';
import { errorResponse, evaluationBody, evaluationHistoryResponse, evaluationJob, evaluationParams, nameParams } from '../schemas.js';

interface EvaluationBody {
  dataset: string;
  split?: string;
  modes?: string[];
  k?: number;
  limitQueries?: number;
  ignoreIdenticalIds?: boolean;
  model?: string;
  baseline?: boolean;
}

/** The dataset folder, resolved inside the datasets root, or an error saying why not. */
async function datasetPath(root: string | undefined, given: string): Promise<string> {
  if (!root) {
    throw new HttpError(409, 'EVALUATIONS_DISABLED', 'this server has no datasets root: start it with `quarry serve --datasets DIR` to allow evaluation runs');
  }
  const realRoot = await realpath(root).catch(() => {
    throw new HttpError(503, 'DATASETS_ROOT_MISSING', 'the server\'s datasets root does not exist');
  });
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const outside = () => new HttpError(400, 'INVALID_INPUT', 'dataset must be a folder inside the server\'s datasets root', 'dataset');
  const named = resolve(realRoot, given);
  if (!inside(named)) throw outside(); // "..", absolute paths
  const real = await realpath(named).catch(() => {
    throw new HttpError(404, 'DATASET_NOT_FOUND', `no dataset folder ${JSON.stringify(given.slice(0, 200))} under the datasets root`, 'dataset');
  });
  if (!inside(real)) throw outside(); // a symbolic link out of the root
  return real;
}

/** The mode whose scores the gauges carry: hybrid when it ran (what users are served), else the first. */
function headlineMode(report: EvalReport): EvalReport['modes'][number] | undefined {
  return report.modes.find((m) => m.mode === 'hybrid') ?? report.modes[0];
}

export function registerEvaluationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Params: { name: string }; Body: EvaluationBody }>(
    '/collections/:name/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Start an evaluation run on a BEIR folder (its corpus is ingested into this collection: use one of its own); needs admin',
        params: nameParams,
        body: evaluationBody,
      },
      config: { auth: { scope: 'admin', collection: 'param' }, docs: { 202: evaluationJob, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
    },
    async (request, reply) => {
      const { name } = request.params;
      const body = request.body;
      const dataset = await datasetPath(ctx.datasetsRoot, body.dataset);
      const k = body.k ?? 10;
      const wantsRerank = (body.modes ?? []).some((m) => m.endsWith('+rerank'));
      const job = ctx.jobs.start(name, body.dataset, async (jobId) => {
        const reranker = wantsRerank ? await ctx.registry.reranker.ready() : undefined;
        const report = await ctx.registry.writeOrCreate(name, body.model, (embedder) =>
          withSpan('quarry.eval', { 'quarry.collection': name }, () =>
            evaluate({
              dataset,
              split: body.split,
              modes: body.modes,
              k,
              limitQueries: body.limitQueries,
              ignoreIdenticalIds: body.ignoreIdenticalIds,
              model: body.model,
              dataDir: ctx.dataDir,
              modelsDir: ctx.modelsDir,
              collection: name,
              embedder,
              reranker,
            }),
          ),
        );
        const m = headlineMode(report);
        const ndcg = m?.[`ndcg@${k}`];
        const recall = m?.['recall@100'];
        if (k === 10 && typeof ndcg === 'number' && typeof recall === 'number') {
          if (body.baseline) await ctx.jobs.saveBaseline(name, { ndcgAt10: ndcg, recallAt100: recall, recordedAt: new Date().toISOString(), dataset: body.dataset });
          const base = ctx.jobs.baselineOf(name);
          setEvalGauges(name, { ndcgAt10: ndcg, recallAt100: recall, ...(base ? { baselineNdcgAt10: base.ndcgAt10, baselineRecallAt100: base.recallAt100 } : {}) });
        }
        // the run's report stays available from the job even when the history cannot be written
        await appendEvalHistory(ctx.dataDir, name, historyEntry(report, { dataset: body.dataset, k, job: jobId })).catch((e: unknown) =>
          app.log.error({ collection: name, job: jobId, err: e }, 'cannot append the evaluation to the history'),
        );
        return report;
      }, { requestId: request.id, log: request.log });
      return reply.code(202).header('location', `/collections/${encodeURIComponent(name)}/evaluations/${job.id}`).send(job);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/collections/:name/evaluations',
    {
      schema: { tags: ['evaluations'], summary: "This server's evaluation runs of a collection (without their reports); needs read", params: nameParams },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: { type: 'object', properties: { evaluations: { type: 'array', items: evaluationJob } } } } },
    },
    async (request) => ({ evaluations: ctx.jobs.list(request.params.name) }),
  );

  app.get<{ Params: { name: string } }>(
    '/collections/:name/evaluations/history',
    {
      schema: {
        tags: ['evaluations'],
        summary: "Every finished evaluation run of a collection, oldest first (kept across restarts): nDCG, Recall@100, MRR and latency per mode; needs read",
        params: nameParams,
      },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: evaluationHistoryResponse, 404: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      if (!collectionExists(ctx.dataDir, name)) throw new CollectionNotFoundError(name, ctx.dataDir);
      const { entries, skipped } = await readEvalHistory(ctx.dataDir, name);
      return { collection: name, evaluations: entries, skipped };
    },
  );

  app.get<{ Params: { name: string; id: string } }>(
    '/collections/:name/evaluations/:id',
    {
      schema: { tags: ['evaluations'], summary: 'One evaluation run: running, done (with its report) or failed (with the error); needs read', params: evaluationParams },
      config: { auth: { scope: 'read', collection: 'param' }, docs: { 200: evaluationJob, 404: errorResponse } },
    },
    async (request) => {
      const job = ctx.jobs.get(request.params.name, request.params.id);
      if (!job) throw new HttpError(404, 'EVALUATION_NOT_FOUND', `no evaluation ${request.params.id} of collection "${request.params.name}" on this server`);
      return job;
    },
  );
}
