/**
 * k-means for the IVF coarse quantizer and the PQ codebooks. Hand-written because it is the
 * core of quarry's own IVF (no native dependency): k-means++ seeding on a bounded sample
 * (at most `maxPointsPerCentroid` x k points, 256 as in FAISS), Lloyd iterations with
 * early stop, and empty-cluster repair by splitting the largest cluster.
 *
 * Metric 'ip' is spherical k-means for unit vectors: points go to the centroid of highest
 * inner product and centroids are renormalized after each update. Metric 'l2' is plain
 * Euclidean k-means (PQ sub-spaces of residuals, which are not unit vectors).
 *
 * Deterministic: the same input, k and seed give the same centroids.
 */
import { InvalidInputError } from '../errors.js';
import { dot, dot4, normalizeRow, Rng, SimdScanner } from './dot.js';

export type KMeansMetric = 'ip' | 'l2';

export interface KMeansOptions {
  metric: KMeansMetric;
  /** Lloyd iterations at most (default 20). */
  maxIter?: number;
  /** PRNG seed for sampling and seeding (default 1234). */
  seed?: number;
  /** Training uses at most this many points per centroid, sampled (default 256, as FAISS). */
  maxPointsPerCentroid?: number;
  /** Stop when the objective improves by less than this fraction in one iteration (default 1e-4). */
  tolerance?: number;
  /**
   * k-means++ seeds from a random subset of at most this many points per centroid (default
   * 16): seeding costs as much as a Lloyd iteration per point, and Lloyd refines the rest.
   */
  seedPointsPerCentroid?: number;
}

export interface KMeansResult {
  /** k x dims, row-major; unit rows for metric 'ip'. */
  centroids: Float32Array;
  k: number;
  dims: number;
  iterations: number;
  /** Final objective: sum of squared distances ('l2') or of 1 - cosine ('ip'). */
  objective: number;
  /** Points actually clustered (the sample). */
  sampleSize: number;
  /** How many times an empty cluster was repaired. */
  emptyRepairs: number;
}

export const KMEANS_DEFAULT_SEED = 1234;

/**
 * Clusters `count` row-major vectors of `dims` into k clusters. Throws InvalidInputError
 * when there are fewer points than clusters.
 */
export function kmeans(data: Float32Array, count: number, dims: number, k: number, options: KMeansOptions): KMeansResult {
  const metric = options.metric;
  const maxIter = options.maxIter ?? 20;
  const tolerance = options.tolerance ?? 1e-4;
  const maxPer = options.maxPointsPerCentroid ?? 256;
  const rng = new Rng(options.seed ?? KMEANS_DEFAULT_SEED);
  if (!Number.isInteger(k) || k < 1) throw new InvalidInputError(`k-means needs a positive integer k, got ${k}`);
  if (!Number.isInteger(count) || count < 0 || data.length < count * dims) {
    throw new InvalidInputError(`k-means got ${data.length} floats, fewer than ${count} vectors x ${dims} dimensions`);
  }
  if (count < k) {
    throw new InvalidInputError(`k-means needs at least k = ${k} training vectors, got ${count}`);
  }

  const { sample, n } = drawSample(data, count, dims, Math.max(k, maxPer * k), rng);
  const sqNorms = new Float64Array(n);
  for (let i = 0; i < n; i++) sqNorms[i] = dot(sample, i * dims, sample, i * dims, dims);
  const centroids = seedPlusPlus(sample, n, dims, k, rng, options.seedPointsPerCentroid ?? 16);
  const matcher = new CentroidMatcher(dims, k, n);
  matcher.loadRows(sample, 0, n);
  if (metric === 'ip') for (let c = 0; c < k; c++) normalizeRow(centroids, c * dims, dims);

  const assign = new Int32Array(n).fill(-1);
  const best = new Float64Array(n);
  const half = new Float64Array(k);
  const sums = new Float64Array(k * dims);
  const counts = new Int32Array(k);

  let objective = Infinity;
  let iterations = 0;
  let emptyRepairs = 0;
  for (let iter = 0; iter < maxIter; iter++) {
    iterations = iter + 1;
    if (metric === 'l2') halfSquaredNorms(centroids, k, dims, half);
    matcher.setCentroids(centroids, half);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const c = matcher.nearest(i);
      best[i] = matcher.score;
      if (assign[i] !== c) {
        assign[i] = c;
        changed++;
      }
    }

    let obj = 0;
    if (metric === 'ip') {
      for (let i = 0; i < n; i++) obj += 1 - best[i];
    } else {
      // ||x - c||^2 = ||x||^2 - 2 (<x, c> - ||c||^2 / 2)
      for (let i = 0; i < n; i++) obj += Math.max(0, sqNorms[i] - 2 * best[i]);
    }
    const improved = objective - obj;
    objective = obj;
    if (changed === 0) break;

    // Update step.
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      counts[c]++;
      const so = c * dims;
      const xo = i * dims;
      for (let t = 0; t < dims; t++) sums[so + t] += sample[xo + t];
    }
    for (let c = 0; c < k; c++) {
      const cnt = counts[c];
      if (cnt === 0) continue;
      const so = c * dims;
      const inv = 1 / cnt;
      for (let t = 0; t < dims; t++) centroids[so + t] = sums[so + t] * inv;
      if (metric === 'ip') normalizeRow(centroids, so, dims);
    }
    emptyRepairs += repairEmpty(centroids, counts, k, dims, metric);
    if (iter > 0 && improved >= 0 && improved <= tolerance * Math.abs(obj)) break;
  }
  return { centroids, k, dims, iterations, objective, sampleSize: n, emptyRepairs };
}

/**
 * Nearest-centroid search for many rows against one set of k centroids, maximizing
 * <x, c> - half[c]. Runs on the SIMD kernels when it can (the row kernel for long rows,
 * the transposed one for short rows such as PQ sub-vectors), on JS loops otherwise.
 * Rows are loaded in blocks of at most `maxRows`.
 */
export class CentroidMatcher {
  /** Score of the last nearest() answer. */
  score = 0;
  private readonly scanner: SimdScanner | null;
  private readonly transposed: boolean;
  private readonly k4: number;
  // Layout of the scanner memory, in floats: centroids, half norms, zeros, scores, rows.
  private readonly H: number;
  private readonly Z: number;
  private readonly O: number;
  private readonly R: number;
  // JS path state.
  private centroids: Float32Array = new Float32Array(0);
  private half: Float64Array;
  private rows: Float32Array = new Float32Array(0);
  private rowsOff = 0;
  private readonly tmp = new Float64Array(4);

  constructor(
    readonly dims: number,
    readonly k: number,
    maxRows: number,
    rowDots = false,
    simd = true,
  ) {
    this.transposed = !(dims % 4 === 0 && dims > 32);
    this.k4 = Math.ceil(k / 4) * 4;
    this.half = new Float64Array(k);
    const zeros = rowDots ? maxRows : 0;
    this.H = this.k4 * dims;
    this.Z = this.H + this.k4;
    this.O = this.Z + zeros;
    this.R = this.O + Math.max(this.k4, 8, zeros);
    this.scanner = simd ? SimdScanner.create(this.R + maxRows * dims) : null;
  }

  setCentroids(centroids: Float32Array, half: Float64Array | null): void {
    const { k, k4, dims, scanner } = this;
    if (half) this.half.set(half.subarray(0, k));
    else this.half.fill(0);
    if (scanner === null) {
      this.centroids = centroids;
      return;
    }
    const f = scanner.f32;
    if (this.transposed) {
      for (let c = 0; c < k4; c++) {
        const src = c * dims;
        for (let t = 0; t < dims; t++) f[t * k4 + c] = c < k ? centroids[src + t] : 0;
      }
    } else {
      f.set(centroids.subarray(0, k * dims), 0);
    }
    // Padding centroids score -Infinity, so they never win.
    for (let c = 0; c < k4; c++) f[this.H + c] = c < k ? this.half[c] : Infinity;
  }

  /** Makes rows [0, n) of `data` from `off` the ones nearest() and rowDots() see. */
  loadRows(data: Float32Array, off: number, n: number): void {
    if (this.scanner === null) {
      this.rows = data;
      this.rowsOff = off;
      return;
    }
    this.scanner.f32.set(data.subarray(off, off + n * this.dims), this.R);
  }

  /** Nearest centroid of loaded row i (first on ties); its score goes to `score`. */
  nearest(i: number): number {
    const { scanner, dims } = this;
    if (scanner === null) {
      const c = nearestCentroid(this.rows, this.rowsOff + i * dims, this.centroids, 0, this.k, dims, this.half, 0, this.tmp);
      this.score = this.tmp[0];
      return c;
    }
    if (this.transposed) {
      const c = scanner.scanT(this.R + i * dims, 0, this.k4, dims, this.H, this.O);
      this.score = scanner.f32[this.O];
      return c;
    }
    const c = scanner.scan(this.R + i * dims, 0, this.k, dims, this.H, this.O);
    this.score = scanner.f32[this.O + c];
    return c;
  }

  /** out[i] = <row i, row p> for the n loaded rows (constructed with rowDots). */
  rowDots(p: number, n: number, out: Float64Array): void {
    const { scanner, dims } = this;
    if (scanner !== null && dims % 4 === 0) {
      const f = scanner.f32;
      scanner.scan(this.R + p * dims, this.R, n, dims, this.Z, this.O);
      for (let i = 0; i < n; i++) out[i] = f[this.O + i];
      return;
    }
    const src = scanner === null ? this.rows : scanner.f32;
    const base = scanner === null ? this.rowsOff : this.R;
    for (let i = 0; i < n; i++) out[i] = dot(src, base + i * dims, src, base + p * dims, dims);
  }
}

/**
 * Nearest centroid of each of `n` rows starting at data[dataOff]: maximizes <x, c> - half[c]
 * (half null: inner product), into out[0..n).
 */
export function assignBatch(
  data: Float32Array,
  dataOff: number,
  n: number,
  dims: number,
  centroids: Float32Array,
  k: number,
  half: Float64Array | null,
  out: Int32Array,
): void {
  if (n === 0) return;
  const block = Math.max(1, Math.min(n, Math.floor((1 << 22) / dims)));
  // A wasm memory and a copy of the centroids cost more than they save on a few rows.
  const matcher = new CentroidMatcher(dims, k, block, false, n * k >= 1024);
  matcher.setCentroids(centroids, half);
  for (let b = 0; b < n; b += block) {
    const rows = Math.min(block, n - b);
    matcher.loadRows(data, dataOff + b * dims, rows);
    for (let i = 0; i < rows; i++) out[b + i] = matcher.nearest(i);
  }
}

/** half[c] = ||c||^2 / 2, so that argmin ||x - c||^2 = argmax <x, c> - half[c]. */
export function halfSquaredNorms(centroids: Float32Array, k: number, dims: number, half: Float64Array): void {
  for (let c = 0; c < k; c++) half[c] = 0.5 * dot(centroids, c * dims, centroids, c * dims, dims);
}

/**
 * Index of the centroid maximizing <x, c> - half[c] (all-zero `half` = inner product),
 * over k centroids starting at centroids[co] and half[ho]. `tmp` must hold 4 numbers;
 * on return tmp[0] is the best score. Ties go to the smaller centroid index.
 */
export function nearestCentroid(
  x: Float32Array,
  xo: number,
  centroids: Float32Array,
  co: number,
  k: number,
  dims: number,
  half: Float64Array,
  ho: number,
  tmp: Float64Array,
): number {
  let bestC = 0;
  let bestS = -Infinity;
  const k4 = k - (k & 3);
  let c = 0;
  for (; c < k4; c += 4) {
    dot4(x, xo, centroids, co + c * dims, dims, tmp, 0);
    const h = ho + c;
    const s0 = tmp[0] - half[h];
    const s1 = tmp[1] - half[h + 1];
    const s2 = tmp[2] - half[h + 2];
    const s3 = tmp[3] - half[h + 3];
    if (s0 > bestS) {
      bestS = s0;
      bestC = c;
    }
    if (s1 > bestS) {
      bestS = s1;
      bestC = c + 1;
    }
    if (s2 > bestS) {
      bestS = s2;
      bestC = c + 2;
    }
    if (s3 > bestS) {
      bestS = s3;
      bestC = c + 3;
    }
  }
  for (; c < k; c++) {
    const s = dot(x, xo, centroids, co + c * dims, dims) - half[ho + c];
    if (s > bestS) {
      bestS = s;
      bestC = c;
    }
  }
  tmp[0] = bestS;
  return bestC;
}

/** Uniform sample without replacement, kept in input order; the input itself when small. */
function drawSample(
  data: Float32Array,
  count: number,
  dims: number,
  max: number,
  rng: Rng,
): { sample: Float32Array; n: number } {
  if (count <= max) return { sample: data, n: count };
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(count - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const chosen = idx.subarray(0, max).sort();
  const sample = new Float32Array(max * dims);
  for (let i = 0; i < max; i++) {
    const src = chosen[i] * dims;
    sample.set(data.subarray(src, src + dims), i * dims);
  }
  return { sample, n: max };
}

/**
 * k-means++ seeding on a random subset of the sample: each next centre drawn with
 * probability proportional to D(x)^2, D the distance to the nearest centre so far
 * (computed as ||x||^2 + ||c||^2 - 2 <x, c>).
 */
function seedPlusPlus(sample: Float32Array, n: number, dims: number, k: number, rng: Rng, perCentroid: number): Float32Array {
  const { sample: data, n: s } = drawSample(sample, n, dims, Math.max(k, perCentroid * k), rng);
  const sqNorms = new Float64Array(s);
  for (let i = 0; i < s; i++) sqNorms[i] = dot(data, i * dims, data, i * dims, dims);
  const matcher = new CentroidMatcher(dims, 1, s, true);
  matcher.loadRows(data, 0, s);
  const centroids = new Float32Array(k * dims);
  const minD = new Float64Array(s).fill(Infinity);
  const dots = new Float64Array(s);
  let pick = rng.int(s);
  for (let c = 0; c < k; c++) {
    const po = pick * dims;
    centroids.set(data.subarray(po, po + dims), c * dims);
    if (c === k - 1) break;
    const cn = sqNorms[pick];
    matcher.rowDots(pick, s, dots);
    let total = 0;
    for (let i = 0; i < s; i++) {
      const d = Math.max(0, sqNorms[i] + cn - 2 * dots[i]);
      if (d < minD[i]) minD[i] = d;
      total += minD[i];
    }
    if (!(total > 0)) {
      // Every point coincides with a centre (duplicates): any point will do; the Lloyd
      // update's empty-cluster repair separates the copies.
      pick = rng.int(s);
      continue;
    }
    let r = rng.next() * total;
    pick = s - 1;
    for (let i = 0; i < s; i++) {
      r -= minD[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}

/**
 * Gives every empty cluster half of the largest one: a copy of its centroid, both nudged
 * in opposite directions (alternating sign per dimension, as FAISS does, so that the two
 * differ in direction, which matters after renormalization).
 */
function repairEmpty(centroids: Float32Array, counts: Int32Array, k: number, dims: number, metric: KMeansMetric): number {
  const EPS = 1 / 1024;
  let repairs = 0;
  for (let e = 0; e < k; e++) {
    if (counts[e] !== 0) continue;
    let big = 0;
    for (let c = 1; c < k; c++) if (counts[c] > counts[big]) big = c;
    if (counts[big] < 2) break;
    const bo = big * dims;
    const eo = e * dims;
    for (let t = 0; t < dims; t++) {
      const v = centroids[bo + t];
      const sign = t % 2 === 0 ? 1 : -1;
      centroids[eo + t] = v * (1 + sign * EPS);
      centroids[bo + t] = v * (1 - sign * EPS);
    }
    if (metric === 'ip') {
      normalizeRow(centroids, eo, dims);
      normalizeRow(centroids, bo, dims);
    }
    const half = counts[big] >> 1;
    counts[e] = half;
    counts[big] -= half;
    repairs++;
  }
  return repairs;
}
