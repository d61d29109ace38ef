/**
 * Synthetic vectors for index tests: seeded, clustered like real sentence embeddings (a
 * mixture of Gaussians, normalized), with a brute-force reference to check against.
 */
import type { VectorHit } from '../../src/index/vector-index.js';

/** mulberry32: a tiny seeded PRNG, so every run sees the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rnd: () => number): number {
  // Box-Muller; 1 - rnd() keeps log away from 0.
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

export function normalizeRows(m: Float32Array, dims: number): Float32Array {
  for (let o = 0; o < m.length; o += dims) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += m[o + j] * m[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dims; j++) m[o + j] *= inv;
  }
  return m;
}

export interface Clustered {
  dims: number;
  count: number;
  /** Row-major unit vectors. */
  data: Float32Array;
  ids: Float64Array;
  /** Row-major unit queries drawn near the clusters, as real queries are. */
  queries: Float32Array;
  queryCount: number;
}

/**
 * `count` unit vectors around `clusters` random centres; `spread` is the noise's share of
 * each vector's norm before normalizing (0.5..1 looks like MiniLM: neighbours at cosine 0.5-0.9).
 */
export function clusteredVectors(opts: {
  count: number;
  dims: number;
  clusters?: number;
  spread?: number;
  queries?: number;
  seed?: number;
  /** First id; ids are firstId, firstId+1, ... (default 1000, so row number != id). */
  firstId?: number;
}): Clustered {
  const { count, dims } = opts;
  const clusters = opts.clusters ?? 24;
  const spread = opts.spread ?? 0.8;
  const queryCount = opts.queries ?? 50;
  const rnd = prng(opts.seed ?? 42);
  const centres = new Float32Array(clusters * dims);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(rnd);
  normalizeRows(centres, dims);
  const draw = (n: number): Float32Array => {
    const out = new Float32Array(n * dims);
    const noise = spread / Math.sqrt(dims);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(rnd() * clusters);
      for (let j = 0; j < dims; j++) out[i * dims + j] = centres[c * dims + j] + noise * gaussian(rnd);
    }
    return normalizeRows(out, dims);
  };
  const data = draw(count);
  const queries = draw(queryCount);
  const first = opts.firstId ?? 1000;
  const ids = Float64Array.from({ length: count }, (_, i) => first + i);
  return { dims, count, data, ids, queries, queryCount };
}

export function row(m: Float32Array, dims: number, i: number): Float32Array {
  return m.slice(i * dims, (i + 1) * dims);
}

export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dims: number): number {
  let s = 0;
  for (let j = 0; j < dims; j++) s += a[ao + j] * b[bo + j];
  return s;
}

/** Every live vector's score for `query`, best first, ties by smaller id (float64 sums). */
export function bruteForce(
  data: Float32Array,
  ids: ArrayLike<number>,
  dims: number,
  query: Float32Array,
  live: (id: number) => boolean = () => true,
): VectorHit[] {
  const hits: VectorHit[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (live(ids[i])) hits.push({ id: ids[i], score: dot(data, i * dims, query, 0, dims) });
  }
  return hits.sort((a, b) => b.score - a.score || a.id - b.id);
}

/** |truth[:k] ∩ got| / min(k, truth.length). */
export function recallAt(k: number, truth: VectorHit[], got: VectorHit[]): number {
  const want = new Set(truth.slice(0, k).map((h) => h.id));
  let hit = 0;
  for (const h of got.slice(0, k)) if (want.has(h.id)) hit++;
  return want.size === 0 ? 1 : hit / want.size;
}
