/** What every runner measures, measured the same way: latency one query at a time, recall@10, memory, disk. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describePoint, K, WARMUP_QUERIES, type SearchPoint } from './configs.js';
import { query, type Dataset } from './dataset.js';

export type SystemName = 'quarry' | 'faiss' | 'lancedb' | 'usearch';

export interface PointResult {
  params: SearchPoint;
  label: string;
  recall: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface SystemResult {
  system: SystemName;
  config: string;
  /** False when the system could not run this configuration; `reason` says why. */
  available: boolean;
  reason?: string;
  /** Exactly what was built (class names, parameters), in the system's own words. */
  built?: string;
  buildMs?: number;
  trainMs?: number;
  /** Bytes the index says it holds (quarry stats().memoryBytes, FAISS serialized size...). */
  memoryBytes?: number;
  /** Process RSS after the build minus before it (after GC, inputs already loaded). */
  rssDeltaBytes?: number;
  diskBytes?: number;
  points: PointResult[];
  /**
   * quarry HNSW only: quarry and raw usearch on the very same graph (quarry's saved payload
   * loaded into a usearch.Index), interleaved query by query in one process.
   */
  paired?: Array<{ quarry: PointResult; usearch: PointResult }>;
  notes: string[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Mean over queries of |returned top-k ∩ exact top-k| / k. */
export function recallAtK(ds: Dataset, results: ArrayLike<number>[]): number {
  let hits = 0;
  for (let i = 0; i < results.length; i++) {
    const truth = new Set(ds.gt.subarray(i * K, (i + 1) * K));
    const got = results[i];
    for (let j = 0; j < Math.min(K, got.length); j++) if (truth.has(got[j])) hits++;
  }
  return hits / (results.length * K);
}

/**
 * Warms up on the first WARMUP_QUERIES queries, then runs each query alone, timed, in order.
 * `search` returns the corpus-row ids, best first.
 */
export async function measurePoint(
  ds: Dataset,
  point: SearchPoint,
  search: (q: Float32Array) => ArrayLike<number> | Promise<ArrayLike<number>>,
): Promise<PointResult> {
  const n = ds.info.nQueries;
  const qs = Array.from({ length: n }, (_, i) => query(ds, i));
  for (let i = 0; i < Math.min(WARMUP_QUERIES, n); i++) await search(qs[i]);
  const times: number[] = [];
  const results: ArrayLike<number>[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await search(qs[i]);
    times.push(performance.now() - t0);
    results.push(r);
  }
  return summarize(ds, point, times, results);
}

function summarize(ds: Dataset, point: SearchPoint, times: number[], results: ArrayLike<number>[]): PointResult {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    params: point,
    label: describePoint(point),
    recall: recallAtK(ds, results),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
  };
}

/**
 * Two searches over the same queries, interleaved query by query (alternating which goes
 * first), so machine noise and drift hit both alike: the fair way to take a latency ratio.
 */
export function measurePaired(
  ds: Dataset,
  point: SearchPoint,
  a: (q: Float32Array) => ArrayLike<number>,
  b: (q: Float32Array) => ArrayLike<number>,
): [PointResult, PointResult] {
  const n = ds.info.nQueries;
  const qs = Array.from({ length: n }, (_, i) => query(ds, i));
  for (let i = 0; i < Math.min(WARMUP_QUERIES, n); i++) {
    a(qs[i]);
    b(qs[i]);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const ra: ArrayLike<number>[] = [];
  const rb: ArrayLike<number>[] = [];
  const timed = (f: (q: Float32Array) => ArrayLike<number>, q: Float32Array, t: number[], r: ArrayLike<number>[]) => {
    const t0 = performance.now();
    const res = f(q);
    t.push(performance.now() - t0);
    r.push(res);
  };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      timed(a, qs[i], ta, ra);
      timed(b, qs[i], tb, rb);
    } else {
      timed(b, qs[i], tb, rb);
      timed(a, qs[i], ta, ra);
    }
  }
  return [summarize(ds, point, ta, ra), summarize(ds, point, tb, rb)];
}

/** Resident set size after a full GC (the worker runs with --expose-gc). */
export function settledRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage.rss();
}

export function pathBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of readdirSync(path)) total += pathBytes(join(path, e));
  return total;
}

export function elapsed(t0: number): number {
  return performance.now() - t0;
}
