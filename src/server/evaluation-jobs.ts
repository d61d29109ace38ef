/** Evaluation jobs the server runs (routes/evaluations.ts) and the baselines they record. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from '../api/evaluate.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import type { FastifyBaseLogger } from 'fastify';
import { toHttpError, type Redact } from './http-errors.js';

export interface EvaluationJob {
  id: string;
  collection: string;
  dataset: string;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  report?: EvalReport;
  error?: { code: string; field?: string; message: string };
}

export interface Baseline {
  ndcgAt10: number;
  recallAt100: number;
  recordedAt: string;
  dataset: string;
}

const BASELINES_FILE = 'eval-baselines.json';
/** Finished jobs kept for polling; older ones are forgotten. */
const KEEP_JOBS = 100;

export class EvaluationJobs {
  constructor(private readonly redact: Redact = (m) => m) {}

  private readonly jobs = new Map<string, EvaluationJob>();
  private readonly running = new Set<Promise<unknown>>();
  private baselines: Record<string, Baseline> = {};
  private baselinesFile = '';

  async loadBaselines(dataDir: string): Promise<void> {
    this.baselinesFile = join(dataDir, BASELINES_FILE);
    if (!existsSync(this.baselinesFile)) return;
    try {
      this.baselines = JSON.parse(readFileSync(this.baselinesFile, 'utf8')) as Record<string, Baseline>;
    } catch {
      this.baselines = {};
    }
  }

  baselineOf(collection: string): Baseline | undefined {
    return this.baselines[collection];
  }

  async saveBaseline(collection: string, b: Baseline): Promise<void> {
    this.baselines = { ...this.baselines, [collection]: b };
    await writeFileAtomic(this.baselinesFile, JSON.stringify(this.baselines, null, 2) + '\n');
  }

  /**
   * Starts a job. A failure that answers 5xx cites `origin.requestId` (the request that
   * started the job) and is logged under it, so the id a client sees finds the error.
   */
  start(collection: string, dataset: string, run: (jobId: string) => Promise<EvalReport>, origin?: { requestId: string; log: FastifyBaseLogger }): EvaluationJob {
    const job: EvaluationJob = { id: randomBytes(8).toString('hex'), collection, dataset, status: 'running', startedAt: new Date().toISOString() };
    this.jobs.set(job.id, job);
    const p = run(job.id).then(
      (report) => {
        job.status = 'done';
        job.report = report;
      },
      (e: unknown) => {
        job.status = 'failed';
        const answer = toHttpError(e, origin?.requestId ?? job.id, this.redact);
        job.error = answer.body.error;
        if (answer.status >= 500) origin?.log.error({ err: e, collection, job: job.id }, 'evaluation job failed');
      },
    );
    const tracked = p.finally(() => {
      job.finishedAt = new Date().toISOString();
      this.running.delete(tracked);
      this.prune();
    });
    this.running.add(tracked);
    return job;
  }

  get(collection: string, id: string): EvaluationJob | undefined {
    const job = this.jobs.get(id);
    return job && job.collection === collection ? job : undefined;
  }

  list(collection: string): EvaluationJob[] {
    return [...this.jobs.values()].filter((j) => j.collection === collection).map(({ report: _r, ...j }) => j);
  }

  private prune(): void {
    const done = [...this.jobs.values()].filter((j) => j.status !== 'running');
    for (const j of done.slice(0, Math.max(0, done.length - KEEP_JOBS))) this.jobs.delete(j.id);
  }

  /** Waits for running jobs (server shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
