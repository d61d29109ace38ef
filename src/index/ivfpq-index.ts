/**
 * IVF-PQ: IVF's coarse lists, but each entry keeps only a product-quantized code of its
 * residual (vector minus its list's centroid), pqM bytes, plus its id. A query scores
 * <q, c_list> + sum_j LUT_j[code_j] (asymmetric distance, one m x 2^nbits table per query),
 * keeps the best `refine` candidates, and rescores those exactly with full-precision vectors
 * read from a VectorSource. PQ alone loses too much recall on sentence embeddings (here, on
 * 20k MiniLM vectors, PQ48 alone: recall@10 0.60), so refine is on by default.
 */
import { InvalidInputError, QuarryError } from '../errors.js';
import { TopK } from './dot.js';
import { IndexFileError, readIndexFile, writeIndexFile, type PayloadPart } from './index-file.js';
import {
  bytesOf,
  copyBytes,
  CoarseQuantizer,
  InvertedLists,
  ivfParamsFrom,
  IvfBase,
  IVF_PARAM_NAMES,
  numericParams,
  positiveInt,
  scanRows,
  type IvfParams,
} from './ivf-index.js';
import { assignBatch } from './kmeans.js';
import { ProductQuantizer } from './pq.js';
import { registerIndexType } from './registry.js';
import type { SearchParams, VectorHit, VectorIndex, VectorSource } from './vector-index.js';

export interface IvfPqParams extends IvfParams {
  /** Sub-quantizers = bytes per code; must divide dims. Default: dims / 8 (48 for 384-d), see defaultPqM. */
  pqM?: number;
  /** Bits per sub-quantizer code, 4..8 (default 8: 256 centroids per sub-space). Codes take a byte each. */
  pqBits?: number;
  /** Candidates rescored exactly from the VectorSource (default 200; 0 = ADC scores only). */
  refine?: number;
  /** k-means iterations per PQ sub-space (default 12). */
  pqTrainIterations?: number;
}

export const IVFPQ_DEFAULTS = { pqBits: 8, refine: 200, pqTrainIterations: 12 } as const;

/**
 * PQ codebooks train on at most this many residuals per centroid (16,384 for 8 bits). On 20k
 * MiniLM vectors 32, 64 and all (78) per centroid gave the same recall (ADC 0.600 / 0.602 /
 * 0.595 at nprobe 28), and PQ training time grows linearly with it.
 */
const PQ_TRAIN_POINTS_PER_CENTROID = 64;

/** Vectors encoded per block in add(). */
const ADD_BLOCK = 4096;

/** dims / 8 when 8 divides dims, else the divisor of dims nearest to dims / 8. */
export function defaultPqM(dims: number): number {
  const target = dims / 8;
  let best = 1;
  for (let m = 1; m <= dims; m++) {
    if (dims % m === 0 && Math.abs(m - target) < Math.abs(best - target)) best = m;
  }
  return best;
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new InvalidInputError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

export class IvfPqIndex extends IvfBase<Uint8Array> implements VectorIndex {
  readonly type = 'ivfpq' as const;
  private readonly pq: ProductQuantizer;
  private readonly refine: number;
  private readonly pqTrainIterations: number;
  private source: VectorSource | null = null;
  // Per-query buffers, reused (search is synchronous).
  private readonly lut: Float32Array;
  private readonly candidates = new TopK(256);
  private readonly heap = new TopK(16);
  private readonly tmp = new Float64Array(4);
  private candIds = new Float64Array(256);
  private candScores = new Float64Array(256);
  private refineBuf: Float32Array;

  constructor(dims: number, params: IvfPqParams = {}, source?: VectorSource) {
    super(dims, params);
    this.refine = nonNegativeInt('refine', params.refine, IVFPQ_DEFAULTS.refine);
    this.pqTrainIterations = positiveInt('pqTrainIterations', params.pqTrainIterations, IVFPQ_DEFAULTS.pqTrainIterations);
    this.pq = new ProductQuantizer(dims, params.pqM ?? defaultPqM(dims), params.pqBits ?? IVFPQ_DEFAULTS.pqBits);
    this.lut = new Float32Array(this.pq.m * this.pq.ksub);
    this.refineBuf = new Float32Array(256 * dims);
    if (source) this.attachSource(source);
  }

  /** Sets (or, with null, clears) where refine reads full-precision vectors. */
  attachSource(source: VectorSource | null): void {
    if (source !== null && source.dims !== this.dims) {
      throw new InvalidInputError(`the vector source has ${source.dims} dimensions, the ivfpq index ${this.dims}`);
    }
    this.source = source;
  }

  protected checkTrainingCount(count: number): void {
    if (count < this.pq.ksub) {
      throw new InvalidInputError(
        `ivfpq training with pqBits = ${this.pq.nbits} needs at least ${this.pq.ksub} vectors (one per PQ centroid), got ${count}; train on more vectors or lower pqBits`,
      );
    }
  }

  /** PQ learns the residuals against the coarse centroids: what it will encode. */
  protected trainPayload(sample: Float32Array, count: number, coarse: CoarseQuantizer): void {
    const assign = new Int32Array(count);
    assignBatch(sample, 0, count, this.dims, coarse.centroids, coarse.nlist, null, assign);
    const residuals = new Float32Array(count * this.dims);
    residualsInto(coarse, sample, 0, count, assign, residuals);
    this.pq.train(residuals, count, {
      seed: this.seed,
      maxIter: this.pqTrainIterations,
      maxPointsPerCentroid: PQ_TRAIN_POINTS_PER_CENTROID,
    });
  }

  protected newLists(nlist: number): InvertedLists<Uint8Array> {
    return new InvertedLists(nlist, this.pq.m, (n) => new Uint8Array(n));
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    const { coarse, lists, assign } = this.prepareAdd(ids, vectors);
    const d = this.dims;
    const m = this.pq.m;
    const n = ids.length;
    // Residuals and codes in blocks, so a huge batch does not double its memory.
    const block = Math.min(n, ADD_BLOCK);
    const residuals = new Float32Array(block * d);
    const codes = new Uint8Array(block * m);
    for (let b = 0; b < n; b += block) {
      const rows = Math.min(block, n - b);
      residualsInto(coarse, vectors, b * d, rows, assign.subarray(b, b + rows), residuals);
      this.pq.encodeBatch(residuals, rows, codes);
      for (let i = 0; i < rows; i++) lists.insert(assign[b + i], ids[b + i], codes, i * m);
    }
  }

  search(query: Float32Array, k: number, params?: SearchParams): VectorHit[] {
    const probed = this.probe(query, k, params);
    const refine = nonNegativeInt('refine', params?.refine, this.refine);
    const source = this.source;
    if (refine > 0 && source === null) {
      throw new InvalidInputError(
        `ivfpq refine = ${refine} needs a VectorSource with the full-precision vectors: pass one to the constructor, load() or attachSource(), or search with { refine: 0 } for approximate scores`,
      );
    }
    const lists = this.lists;
    if (probed === 0 || lists === null) return [];

    const lut = this.lut;
    this.pq.innerProductTable(query, 0, lut);
    const wanted = Math.min(refine > 0 ? Math.max(refine, k) : k, lists.size);
    const cands = refine > 0 ? this.candidates : this.heap;
    cands.reset(wanted);
    const m = this.pq.m;
    const ksub = this.pq.ksub;
    const m4 = m - (m & 3);
    for (let p = 0; p < probed; p++) {
      const l = this.probeLists[p];
      const base = this.probeScores[p];
      const n = lists.sizes[l];
      const ids = lists.ids[l];
      const codes = lists.data[l];
      for (let i = 0; i < n; i++) {
        const co = i * m;
        let s0 = base;
        let s1 = 0;
        let j = 0;
        let t = 0;
        for (; j < m4; j += 4, t += 4 * ksub) {
          s0 += lut[t + codes[co + j]] + lut[t + ksub + codes[co + j + 1]];
          s1 += lut[t + 2 * ksub + codes[co + j + 2]] + lut[t + 3 * ksub + codes[co + j + 3]];
        }
        for (; j < m; j++, t += ksub) s0 += lut[t + codes[co + j]];
        cands.push(s0 + s1, ids[i]);
      }
    }
    if (refine === 0) return cands.drainHits();
    return this.rescore(query, k, source as VectorSource);
  }

  /** Exact inner products for the ADC candidates, from full-precision vectors. */
  private rescore(query: Float32Array, k: number, source: VectorSource): VectorHit[] {
    const n = this.candidates.size;
    if (this.candIds.length < n) {
      this.candIds = new Float64Array(n);
      this.candScores = new Float64Array(n);
    }
    this.candidates.drainInto(this.candScores, this.candIds);
    const d = this.dims;
    if (this.refineBuf.length < n * d) this.refineBuf = new Float32Array(n * d);
    const ids = this.candIds.subarray(0, n);
    const vecs = this.refineBuf.subarray(0, n * d);
    try {
      source.fetch(ids, vecs);
    } catch (e) {
      if (e instanceof QuarryError) throw e;
      throw new QuarryError('VECTOR_SOURCE_FAILED', 'unavailable', `ivfpq refine could not read ${n} vectors from its source: ${String(e)}`, {}, { cause: e });
    }
    const heap = this.heap;
    heap.reset(Math.min(k, n));
    scanRows(query, vecs, ids, n, d, heap, this.tmp);
    return heap.drainHits();
  }

  protected override memoryBytes(): number {
    return super.memoryBytes() + this.pq.memoryBytes + this.lut.byteLength;
  }

  protected override statsParams(): Record<string, number | string | boolean> {
    return {
      ...super.statsParams(),
      pqM: this.pq.m,
      pqBits: this.pq.nbits,
      refine: this.refine,
      pqTrainIterations: this.pqTrainIterations,
      source: this.source !== null,
    };
  }

  serialize(): { params: Record<string, unknown>; parts: PayloadPart[] } {
    return {
      params: {
        ...this.headerParams(),
        pqM: this.pq.m,
        pqBits: this.pq.nbits,
        refine: this.refine,
        pqTrainIterations: this.pqTrainIterations,
      },
      parts: this.payloadParts([bytesOf(this.pq.codebooks)]),
    };
  }

  static deserialize(
    file: string,
    dims: number,
    count: number,
    params: Record<string, unknown>,
    payload: Uint8Array,
    source?: VectorSource,
  ): IvfPqIndex {
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    let index: IvfPqIndex;
    try {
      index = new IvfPqIndex(
        dims,
        {
          ...ivfParamsFrom(params),
          pqM: num(params.pqM),
          pqBits: num(params.pqBits),
          refine: num(params.refine),
          pqTrainIterations: num(params.pqTrainIterations),
        },
        source,
      );
    } catch (e) {
      if (e instanceof InvalidInputError) throw new IndexFileError(file, `its params are invalid (${e.message})`);
      throw e;
    }
    const pq = index.pq;
    index.restore(file, count, params, payload, pq.m, (n) => new Uint8Array(n), (offset) => {
      const bytes = pq.m * pq.ksub * pq.dsub * 4;
      if (payload.byteLength < offset + bytes) throw new IndexFileError(file, 'the payload is shorter than its PQ codebooks');
      pq.setCodebooks(new Float32Array(copyBytes(payload, offset, bytes)));
      return offset + bytes + ((8 - (bytes % 8)) % 8);
    });
    return index;
  }

  async save(path: string): Promise<void> {
    const { params, parts } = this.serialize();
    await writeIndexFile(path, { type: this.type, dims: this.dims, count: this.size, params }, parts);
  }

  /** Loads a saved index; `source` is needed for refine > 0 (or attach one later). */
  static async load(path: string, source?: VectorSource): Promise<IvfPqIndex> {
    const { header, payload } = await readIndexFile(path, 'ivfpq');
    return IvfPqIndex.deserialize(path, header.dims, header.count, header.params, payload, source);
  }
}

/** out[i] = x_i - centroid(assign[i]) for n rows starting at x[xo]. */
function residualsInto(coarse: CoarseQuantizer, x: Float32Array, xo: number, n: number, assign: Int32Array, out: Float32Array): void {
  const d = coarse.dims;
  const c = coarse.centroids;
  for (let i = 0; i < n; i++) {
    const co = assign[i] * d;
    const o = i * d;
    for (let t = 0; t < d; t++) out[o + t] = x[xo + o + t] - c[co + t];
  }
}

function isVectorSource(v: unknown): v is VectorSource {
  return typeof v === 'object' && v !== null && typeof (v as VectorSource).fetch === 'function' && typeof (v as VectorSource).dims === 'number';
}

const IVFPQ_PARAM_NAMES = [...IVF_PARAM_NAMES, 'pqM', 'pqBits', 'refine', 'pqTrainIterations'] as const;

// The registry's create/load carry no VectorSource yet: `params.source` / `opts.source` are
// read here until the registry's types grow a field for it.
registerIndexType('ivfpq', {
  create: (dims, params) => {
    const { source, ...rest } = params;
    if (source !== undefined && !isVectorSource(source)) throw new InvalidInputError('ivfpq param source must be a VectorSource { dims, fetch(ids, out) }');
    return new IvfPqIndex(dims, numericParams('ivfpq', rest, IVFPQ_PARAM_NAMES), source);
  },
  load: (path, opts) => {
    const source = (opts as { source?: unknown }).source;
    return IvfPqIndex.load(path, isVectorSource(source) ? source : undefined);
  },
});
