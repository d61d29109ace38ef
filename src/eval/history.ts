/**
 * Evaluation history: every finished evaluation run of a collection, one JSON object per
 * line, appended to `<dataDir>/.eval-history/<collection>.jsonl` and fsync'd before the run
 * counts as recorded. Append-only, so a crash can tear at most the last line; reading skips
 * a line that does not parse (and says how many it skipped), and the next append starts on
 * a fresh line, so one torn record never swallows the next.
 *
 * Kept outside the collection's folder (whose layout belongs to the store) and outside any
 * name a collection can take (collection names start with a letter or digit).
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalReport } from '../api/evaluate.js';
import { appendLine } from '../store/atomic-file.js';
import { validateCollectionName } from '../store/collection.js';

export const HISTORY_DIR = '.eval-history';

export interface EvalHistoryMode {
  /** bm25, vector, hybrid, each optionally "+rerank". */
  mode: string;
  /** The report's metrics by their names: ndcg@k, mrr@k, p@k, recall@100. */
  metrics: Record<string, number>;
  latencyMs: { p50: number; p99: number };
}

export interface EvalHistoryEntry {
  /** When the run finished (ISO 8601). */
  at: string;
  /** The server's job id, when a server ran it. */
  job?: string;
  dataset: string;
  split: string;
  queries: number;
  /** The cut-off of nDCG, MRR and P (recall is always @100). */
  k: number;
  model: string;
  documents: number;
  chunks: number;
  reranker?: string;
  /** The command line that ran it (`quarry eval ...`); absent for runs over HTTP. */
  command?: string;
  modes: EvalHistoryMode[];
}

export function historyFile(dataDir: string, collection: string): string {
  return join(dataDir, HISTORY_DIR, `${validateCollectionName(collection)}.jsonl`);
}

/** The history record of a finished run; `dataset` as the client named it (not the server's path). */
export function historyEntry(report: EvalReport, opts: { dataset: string; k: number; job?: string; at?: Date; command?: string }): EvalHistoryEntry {
  return {
    at: (opts.at ?? new Date()).toISOString(),
    ...(opts.job ? { job: opts.job } : {}),
    dataset: opts.dataset,
    split: report.split,
    queries: report.queries,
    k: opts.k,
    model: report.model,
    documents: report.documents,
    chunks: report.chunks,
    ...(report.reranker ? { reranker: report.reranker } : {}),
    ...(opts.command ? { command: opts.command } : {}),
    modes: report.modes.map((m) => {
      const metrics: Record<string, number> = {};
      for (const [name, v] of Object.entries(m)) if (name.includes('@') && typeof v === 'number') metrics[name] = v;
      return { mode: m.mode, metrics, latencyMs: { p50: m.latencyMs.p50, p99: m.latencyMs.p99 } };
    }),
  };
}

/** Appends are serialized per file within this process (the server is the only writer). */
const tails = new Map<string, Promise<unknown>>();

/** Appends one record and fsyncs it (and, for a new file, its folder). */
export async function appendEvalHistory(dataDir: string, collection: string, entry: EvalHistoryEntry): Promise<void> {
  const file = historyFile(dataDir, collection);
  const run = (tails.get(file) ?? Promise.resolve()).then(async () => {
    await appendLine(file, JSON.stringify(entry), 0o644);
  });
  const tail = run.catch(() => undefined);
  tails.set(file, tail);
  void tail.then(() => {
    if (tails.get(file) === tail) tails.delete(file);
  });
  return run;
}

function isEntry(x: unknown): x is EvalHistoryEntry {
  const e = x as EvalHistoryEntry;
  return typeof e === 'object' && e !== null && typeof e.at === 'string' && typeof e.dataset === 'string' && Array.isArray(e.modes);
}

/** Every recorded run, oldest first; `skipped` counts lines that could not be read (a torn last line). */
export async function readEvalHistory(dataDir: string, collection: string): Promise<{ entries: EvalHistoryEntry[]; skipped: number }> {
  const file = historyFile(dataDir, collection);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: 0 };
    throw e;
  }
  const entries: EvalHistoryEntry[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isEntry(parsed)) entries.push(parsed);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { entries, skipped };
}

/** Forgets a deleted collection's history. */
export async function removeEvalHistory(dataDir: string, collection: string): Promise<void> {
  await rm(historyFile(dataDir, collection), { force: true });
}
