/**
 * Product quantizer: a vector is cut into m sub-vectors of dims/m, and each sub-vector is
 * replaced by the index of its nearest centroid in that sub-space's codebook of 2^nbits
 * centroids (trained with L2 k-means). Codes are one byte per sub-quantizer (nbits 4..8).
 *
 * Asymmetric distance computation for inner product: for a query q, table[j][c] =
 * <q_j, codebook_j[c]>, so <q, decode(code)> = sum_j table[j][code_j], m lookups a vector.
 * In IVF-PQ the quantizer encodes residuals r = x - c_list, and <q, x> = <q, c_list> + <q, r>.
 */
import { InvalidInputError } from '../errors.js';
import { dot } from './dot.js';
import { assignBatch, halfSquaredNorms, kmeans, KMEANS_DEFAULT_SEED, nearestCentroid } from './kmeans.js';

export interface PqTrainOptions {
  /** Lloyd iterations per sub-space (default 16). */
  maxIter?: number;
  seed?: number;
  /** Sample cap per centroid (default 256, as FAISS). */
  maxPointsPerCentroid?: number;
}

export class ProductQuantizer {
  readonly ksub: number;
  readonly dsub: number;
  /** m x ksub x dsub, row-major: codebook j's centroid c starts at (j * ksub + c) * dsub. */
  codebooks: Float32Array;
  private trainedFlag = false;
  /** ||codeword||^2 / 2 per (j, c), for nearest-codeword search. */
  private half: Float64Array;
  private readonly tmp = new Float64Array(4);

  constructor(readonly dims: number, readonly m: number, readonly nbits: number) {
    if (!Number.isInteger(dims) || dims < 1) throw new InvalidInputError(`PQ dims must be a positive integer, got ${dims}`);
    if (!Number.isInteger(m) || m < 1 || dims % m !== 0) {
      throw new InvalidInputError(`PQ sub-quantizers m = ${m} must be a positive integer that divides dims = ${dims}`);
    }
    if (!Number.isInteger(nbits) || nbits < 4 || nbits > 8) {
      throw new InvalidInputError(`PQ nbits must be an integer from 4 to 8, got ${nbits}`);
    }
    this.ksub = 1 << nbits;
    this.dsub = dims / m;
    this.codebooks = new Float32Array(m * this.ksub * this.dsub);
    this.half = new Float64Array(m * this.ksub);
  }

  get trained(): boolean {
    return this.trainedFlag;
  }

  /** Bytes per encoded vector. */
  get codeSize(): number {
    return this.m;
  }

  /** Learns the m codebooks from `count` row-major vectors (at least 2^nbits of them). */
  train(data: Float32Array, count: number, options: PqTrainOptions = {}): void {
    const { m, ksub, dsub } = this;
    if (count < ksub) {
      throw new InvalidInputError(
        `PQ with nbits = ${this.nbits} needs at least ${ksub} training vectors (one per centroid), got ${count}; lower pqBits or train on more vectors`,
      );
    }
    const sub = new Float32Array(count * dsub);
    for (let j = 0; j < m; j++) {
      this.gather(data, count, j, sub);
      const res = kmeans(sub, count, dsub, ksub, {
        metric: 'l2',
        maxIter: options.maxIter ?? 16,
        seed: (options.seed ?? KMEANS_DEFAULT_SEED) + j,
        maxPointsPerCentroid: options.maxPointsPerCentroid ?? 256,
      });
      this.codebooks.set(res.centroids, j * ksub * dsub);
    }
    this.setCodebooks(this.codebooks);
  }

  /** Installs codebooks (from training or a saved index). */
  setCodebooks(codebooks: Float32Array): void {
    if (codebooks.length !== this.m * this.ksub * this.dsub) {
      throw new InvalidInputError(`PQ codebooks must hold ${this.m * this.ksub * this.dsub} floats, got ${codebooks.length}`);
    }
    this.codebooks = codebooks;
    for (let j = 0; j < this.m; j++) {
      const h = this.half.subarray(j * this.ksub, (j + 1) * this.ksub);
      halfSquaredNorms(codebooks.subarray(j * this.ksub * this.dsub, (j + 1) * this.ksub * this.dsub), this.ksub, this.dsub, h);
    }
    this.trainedFlag = true;
  }

  /** Encodes the vector at x[xo..xo+dims) into out[oo..oo+m). */
  encode(x: Float32Array, xo: number, out: Uint8Array, oo: number): void {
    const { m, ksub, dsub } = this;
    const cb = this.codebooks;
    const half = this.half;
    const tmp = this.tmp;
    for (let j = 0; j < m; j++) {
      out[oo + j] = nearestCentroid(x, xo + j * dsub, cb, j * ksub * dsub, ksub, dsub, half, j * ksub, tmp);
    }
  }

  /** Encodes `n` row-major vectors into out[0..n*m), one sub-space at a time (SIMD when it can). */
  encodeBatch(x: Float32Array, n: number, out: Uint8Array): void {
    const { m, ksub, dsub } = this;
    const sub = new Float32Array(n * dsub);
    const assign = new Int32Array(n);
    for (let j = 0; j < m; j++) {
      this.gather(x, n, j, sub);
      const cb = this.codebooks.subarray(j * ksub * dsub, (j + 1) * ksub * dsub);
      assignBatch(sub, 0, n, dsub, cb, ksub, this.half.subarray(j * ksub, (j + 1) * ksub), assign);
      for (let i = 0; i < n; i++) out[i * m + j] = assign[i];
    }
  }

  /** Copies sub-space j of n rows into a dense n x dsub matrix, so k-means and the kernels see contiguous rows. */
  private gather(x: Float32Array, n: number, j: number, out: Float32Array): void {
    const { dims, dsub } = this;
    const off = j * dsub;
    for (let i = 0; i < n; i++) {
      const src = i * dims + off;
      const dst = i * dsub;
      for (let t = 0; t < dsub; t++) out[dst + t] = x[src + t];
    }
  }

  /** Writes the reconstruction of code[co..co+m) into out[oo..oo+dims). */
  decode(code: Uint8Array, co: number, out: Float32Array, oo: number): void {
    const { m, ksub, dsub } = this;
    const cb = this.codebooks;
    for (let j = 0; j < m; j++) {
      const src = (j * ksub + code[co + j]) * dsub;
      const dst = oo + j * dsub;
      for (let t = 0; t < dsub; t++) out[dst + t] = cb[src + t];
    }
  }

  /**
   * Fills table[j * ksub + c] = <q_j, codebook_j[c]> (m x 2^nbits floats), so that
   * <q, decode(code)> = sum_j table[j * ksub + code_j].
   */
  innerProductTable(q: Float32Array, qo: number, table: Float32Array): void {
    const { m, ksub, dsub } = this;
    const cb = this.codebooks;
    for (let j = 0; j < m; j++) {
      const qj = qo + j * dsub;
      const base = j * ksub;
      for (let c = 0; c < ksub; c++) table[base + c] = dot(q, qj, cb, (base + c) * dsub, dsub);
    }
  }

  /** Sum of table lookups for one code: the ADC inner product. */
  adc(table: Float32Array, code: Uint8Array, co: number): number {
    const { m, ksub } = this;
    let s = 0;
    for (let j = 0; j < m; j++) s += table[j * ksub + code[co + j]];
    return s;
  }

  get memoryBytes(): number {
    return this.codebooks.byteLength + this.half.byteLength;
  }
}
