/**
 * Runs judged queries against one open collection and scores the rankings: the loop behind
 * `quarry eval` (a BEIR dataset) and the promotion gate (a collection's held-out judgments,
 * live generation against shadow). Documents rank where their best chunk does (MaxP), by
 * the same grouping search results use (src/retrieve/group.ts), so the two agree.
 */
import type { BeirQuery } from './beir.js';
import { mean, mrrAtK, ndcgAtK, percentile, precisionAtK, recallAtK } from './metrics.js';
import { groupByDocument } from '../retrieve/group.js';
import { STAGES, type RetrieveOptions, type SearchSession, type SearchMode, type Stage } from '../retrieve/session.js';

/** Documents ranked per query: recall@100 needs 100 distinct documents. */
export const DOC_DEPTH = 100;
/** Chunks asked of each retriever, so that ~100 distinct documents remain after grouping. */
export const CHUNK_DEPTH = 300;

export interface ModeSpec {
  /** As written by the user, e.g. "hybrid+rerank". */
  spec: string;
  mode: SearchMode;
  rerank: boolean;
}

export interface EvalModeResult {
  mode: string;
  [metric: `ndcg@${number}` | `mrr@${number}` | `p@${number}` | `recall@${number}`]: number;
  latencyMs: { p50: number; p99: number };
  stagesMs: Partial<Record<Stage, { p50: number; p99: number }>>;
}

export interface JudgeOptions {
  /** Cut-off of nDCG, MRR and P; recall is always @100. */
  k: number;
  /** Drop results whose document id is the query's id (BEIR's ignore_identical_ids). */
  ignoreIdenticalIds?: boolean;
  /** Search settings passed to every query (weights, fusion, BM25, rerank pool). */
  retrieve?: Omit<RetrieveOptions, 'mode' | 'k' | 'window' | 'rerank' | 'observe'>;
  onQuery?: (done: number, total: number) => void;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * A query's ranked chunks as the judged ranking of documents: at most DOC_DEPTH, each where
 * its best chunk ranks, the query's own id left out under ignoreIdenticalIds.
 */
export function documentsOf(hits: ReadonlyArray<{ id: number }>, docOf: ReadonlyMap<number, string>, queryId: string, o: Pick<JudgeOptions, 'ignoreIdenticalIds'>): string[] {
  return groupByDocument(hits, (h) => docOf.get(h.id), {
    limit: DOC_DEPTH,
    passages: 0,
    skip: o.ignoreIdenticalIds ? (d) => d === queryId : undefined,
  }).map((g) => g.docId);
}

/** One mode's metrics over the judged queries, with latency per query and per stage. */
export async function judgeMode(
  session: SearchSession,
  docOf: ReadonlyMap<number, string>,
  queries: readonly BeirQuery[],
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
  s: ModeSpec,
  o: JudgeOptions,
): Promise<EvalModeResult> {
  const { k } = o;
  const ndcg: number[] = [];
  const recall: number[] = [];
  const mrr: number[] = [];
  const prec: number[] = [];
  const total: number[] = [];
  const stages = new Map<Stage, number[]>();
  let done = 0;
  for (const q of queries) {
    const t0 = performance.now();
    const { hits, timings } = await session.retrieve(q.text, {
      ...o.retrieve,
      mode: s.mode,
      k: CHUNK_DEPTH,
      window: CHUNK_DEPTH,
      rerank: s.rerank,
      // judged queries are not traffic: kept out of the search metrics and traces
      observe: false,
    });
    total.push(performance.now() - t0);
    for (const [stage, ms] of Object.entries(timings)) {
      const arr = stages.get(stage as Stage) ?? [];
      arr.push(ms);
      stages.set(stage as Stage, arr);
    }
    const ranked = documentsOf(hits, docOf, q.id, o);
    const rel = qrels.get(q.id) ?? new Map<string, number>();
    ndcg.push(ndcgAtK(ranked, rel, k));
    recall.push(recallAtK(ranked, rel, DOC_DEPTH));
    mrr.push(mrrAtK(ranked, rel, k));
    prec.push(precisionAtK(ranked, rel, k));
    o.onQuery?.(++done, queries.length);
  }
  const stagesMs: EvalModeResult['stagesMs'] = {};
  for (const stage of STAGES) {
    const arr = stages.get(stage);
    if (arr) stagesMs[stage] = { p50: r2(percentile(arr, 50)), p99: r2(percentile(arr, 99)) };
  }
  return {
    mode: s.spec,
    [`ndcg@${k}`]: r4(mean(ndcg)),
    [`recall@${DOC_DEPTH}`]: r4(mean(recall)),
    [`mrr@${k}`]: r4(mean(mrr)),
    [`p@${k}`]: r4(mean(prec)),
    latencyMs: { p50: r2(percentile(total, 50)), p99: r2(percentile(total, 99)) },
    stagesMs,
  } as EvalModeResult;
}
