/**
 * IVF (inverted file) index: k-means splits the space into `nlist` cells; each vector is
 * stored, in full, in the list of its nearest centroid; a query scores the centroids, probes
 * the `nprobe` best lists and scans only those. quarry's own pure TypeScript over typed
 * arrays (no native dependency), so it runs wherever Node does.
 *
 * This file also holds the parts IVF-PQ shares: the coarse quantizer, the inverted lists
 * (ids + a fixed-width payload per entry, contiguous per list, sized exactly for a bulk add
 * and grown by half for single adds, removal by swap-remove), the id -> (list, slot) hash
 * map that makes replace/remove/has O(1), and the IvfBase class both indexes extend.
 */
import { InvalidInputError } from '../errors.js';
import { dot, dot1, dot4, SimdScanner, TopK } from './dot.js';
import { IndexFileError, readIndexFile, writeIndexFile, type PayloadPart } from './index-file.js';
import { assignBatch, kmeans, KMEANS_DEFAULT_SEED } from './kmeans.js';
import { registerIndexType } from './registry.js';
import type { IndexStats, SearchParams, VectorHit, VectorIndex } from './vector-index.js';

// ---------------------------------------------------------------------------------------
// Validation shared by IVF and IVF-PQ
// ---------------------------------------------------------------------------------------

export function checkDims(dims: number): void {
  if (!Number.isInteger(dims) || dims < 1) throw new InvalidInputError(`dims must be a positive integer, got ${dims}`);
}

export function checkId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new InvalidInputError(`vector ids must be non-negative integers below 2^53, got ${id}`);
  }
}

/** Checks a row-major batch: length and finiteness (NaN would silently poison scores). */
export function checkVectors(what: string, vectors: Float32Array, count: number, dims: number): void {
  if (!(vectors instanceof Float32Array)) throw new InvalidInputError(`${what} must be a Float32Array`);
  if (vectors.length !== count * dims) {
    throw new InvalidInputError(`${what}: expected ${count * dims} floats for ${count} vectors of ${dims} dimensions, got ${vectors.length}`);
  }
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    if (v - v !== 0) {
      throw new InvalidInputError(`${what}: vector ${Math.floor(i / dims)} holds a non-finite value (${v}) at dimension ${i % dims}`);
    }
  }
}

export function checkQuery(query: Float32Array, dims: number): void {
  if (!(query instanceof Float32Array)) throw new InvalidInputError('the query must be a Float32Array');
  if (query.length !== dims) throw new InvalidInputError(`the query has ${query.length} dimensions, the index ${dims}`);
  checkVectors('query', query, 1, dims);
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new InvalidInputError(`k must be a non-negative integer, got ${k}`);
}

/** A positive integer parameter (nlist, nprobe, ...), or the fallback when undefined. */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function checkTrainingSample(sample: Float32Array, count: number, dims: number): void {
  if (!Number.isInteger(count) || count < 1) throw new InvalidInputError(`train() needs a positive vector count, got ${count}`);
  if (!(sample instanceof Float32Array) || sample.length < count * dims) {
    throw new InvalidInputError(`train() got ${sample?.length} floats, fewer than ${count} vectors x ${dims} dimensions`);
  }
  checkVectors('training sample', sample.subarray(0, count * dims), count, dims);
}

/** Default nlist for `count` training vectors: about sqrt(n), with at least 39 vectors a list. */
export function defaultNlist(count: number): number {
  return Math.max(1, Math.min(Math.round(Math.sqrt(count)), Math.floor(count / 39)));
}

/** FAISS's rule of thumb: k-means wants about 39 training points a centroid or more. */
export function warnSmallTraining(what: string, count: number, nlist: number): void {
  if (count < 39 * nlist) {
    process.emitWarning(
      `${what}: training ${nlist} lists on ${count} vectors; at least ${39 * nlist} (39 a list) give stable centroids`,
      { code: 'QUARRY_IVF_SMALL_TRAINING' },
    );
  }
}

// ---------------------------------------------------------------------------------------
// id -> (list, slot)
// ---------------------------------------------------------------------------------------

const EMPTY = -1;

/**
 * Open-addressing hash map (linear probing, backward-shift deletion, no tombstones) from a
 * vector id to its list and slot. 16 bytes a bucket at load <= 0.75: a JS Map costs several
 * times that per entry, which matters for IVF-PQ, where the codes themselves are tiny.
 */
export class IdLocations {
  private keys: Float64Array;
  private lists: Int32Array;
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap * 0.75 < capacity) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.lists = new Int32Array(cap);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private home(id: number): number {
    const lo = id >>> 0;
    const hi = (id / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** Bucket of `id`, or -1. */
  find(id: number): number {
    const keys = this.keys;
    let b = this.home(id);
    for (;;) {
      const key = keys[b];
      if (key === id) return b;
      if (key === EMPTY) return -1;
      b = (b + 1) & this.mask;
    }
  }

  listAt(bucket: number): number {
    return this.lists[bucket];
  }

  slotAt(bucket: number): number {
    return this.slots[bucket];
  }

  setSlotAt(bucket: number, slot: number): void {
    this.slots[bucket] = slot;
  }

  /** Inserts or updates. */
  set(id: number, list: number, slot: number): void {
    if ((this.size + 1) > (this.mask + 1) * 0.75) this.grow();
    const keys = this.keys;
    let b = this.home(id);
    for (;;) {
      const key = keys[b];
      if (key === id) break;
      if (key === EMPTY) {
        keys[b] = id;
        this.size++;
        break;
      }
      b = (b + 1) & this.mask;
    }
    this.lists[b] = list;
    this.slots[b] = slot;
  }

  /** Removes `id`; returns whether it was there. */
  delete(id: number): boolean {
    let i = this.find(id);
    if (i < 0) return false;
    const keys = this.keys;
    const mask = this.mask;
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const key = keys[j];
      if (key === EMPTY) break;
      const h = this.home(key);
      // Entry at j may fill hole i only if its home is not cyclically in (i, j].
      const between = i <= j ? h > i && h <= j : h > i || h <= j;
      if (between) continue;
      keys[i] = key;
      this.lists[i] = this.lists[j];
      this.slots[i] = this.slots[j];
      i = j;
    }
    keys[i] = EMPTY;
    this.size--;
    return true;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldLists = this.lists;
    const oldSlots = this.slots;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.lists = new Int32Array(cap);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let b = 0; b < oldKeys.length; b++) {
      const key = oldKeys[b];
      if (key !== EMPTY) this.set(key, oldLists[b], oldSlots[b]);
    }
  }

  get memoryBytes(): number {
    return this.keys.byteLength + this.lists.byteLength + this.slots.byteLength;
  }
}

// ---------------------------------------------------------------------------------------
// Inverted lists
// ---------------------------------------------------------------------------------------

type Payload = Float32Array | Uint8Array;

/**
 * `nlist` lists of (id, payload row of `width` elements), each list contiguous so a scan
 * walks memory in order. Ids live in the lists (Float64Array: any id below 2^53) and in the
 * location map, which also tracks where each id sits.
 */
export class InvertedLists<T extends Payload> {
  readonly ids: Float64Array[];
  readonly data: T[];
  readonly sizes: Int32Array;
  readonly locations: IdLocations;
  private count = 0;

  constructor(
    readonly nlist: number,
    readonly width: number,
    private readonly make: (n: number) => T,
    expected = 0,
  ) {
    this.ids = new Array<Float64Array>(nlist);
    this.data = new Array<T>(nlist);
    for (let l = 0; l < nlist; l++) {
      this.ids[l] = new Float64Array(0);
      this.data[l] = make(0);
    }
    this.sizes = new Int32Array(nlist);
    this.locations = new IdLocations(expected);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.locations.find(id) >= 0;
  }

  /**
   * Makes room for a batch about to be inserted (assign[i] = list of row i), so a bulk
   * load allocates each list once, at its final size, instead of growing it step by step.
   */
  reserve(assign: Int32Array, n: number): void {
    const incoming = new Int32Array(this.nlist);
    for (let i = 0; i < n; i++) incoming[assign[i]]++;
    for (let l = 0; l < this.nlist; l++) {
      const need = this.sizes[l] + incoming[l];
      if (need > this.ids[l].length) this.resizeList(l, need);
    }
  }

  /** Appends (id, src[so..so+width)) to `list`, replacing any entry `id` had before. */
  insert(list: number, id: number, src: T, so: number): void {
    this.remove(id);
    const slot = this.sizes[list];
    if (slot === this.ids[list].length) this.resizeList(list, Math.max(8, Math.ceil(slot * 1.5)));
    this.ids[list][slot] = id;
    const data = this.data[list];
    const w = this.width;
    const dst = slot * w;
    for (let t = 0; t < w; t++) data[dst + t] = src[so + t];
    this.sizes[list] = slot + 1;
    this.locations.set(id, list, slot);
    this.count++;
  }

  /** Swap-removes `id` from its list; returns whether it was there. */
  remove(id: number): boolean {
    const b = this.locations.find(id);
    if (b < 0) return false;
    const list = this.locations.listAt(b);
    const slot = this.locations.slotAt(b);
    this.locations.delete(id);
    const last = this.sizes[list] - 1;
    if (slot !== last) {
      const ids = this.ids[list];
      const movedId = ids[last];
      ids[slot] = movedId;
      const data = this.data[list];
      const w = this.width;
      data.copyWithin(slot * w, last * w, last * w + w);
      this.locations.setSlotAt(this.locations.find(movedId), slot);
    }
    this.sizes[list] = last;
    this.count--;
    // Give memory back when a list has shrunk to a quarter of its capacity.
    const cap = this.ids[list].length;
    if (cap > 32 && last < cap / 4) this.resizeList(list, Math.max(8, cap >> 1));
    return true;
  }

  private resizeList(list: number, cap: number): void {
    const n = this.sizes[list];
    const ids = new Float64Array(cap);
    ids.set(this.ids[list].subarray(0, n));
    const data = this.make(cap * this.width);
    data.set(this.data[list].subarray(0, n * this.width) as never);
    this.ids[list] = ids;
    this.data[list] = data;
  }

  get memoryBytes(): number {
    let bytes = this.sizes.byteLength + this.locations.memoryBytes;
    for (let l = 0; l < this.nlist; l++) bytes += this.ids[l].byteLength + this.data[l].byteLength;
    return bytes;
  }

  /** Payload parts: sizes (u32, padded to 8), then every list's ids, then every list's rows. */
  toParts(): PayloadPart[] {
    const parts: PayloadPart[] = [];
    const sizes = new Uint32Array(this.nlist + (this.nlist & 1));
    sizes.set(this.sizes);
    parts.push(bytesOf(sizes));
    for (let l = 0; l < this.nlist; l++) parts.push(bytesOf(this.ids[l].subarray(0, this.sizes[l])));
    for (let l = 0; l < this.nlist; l++) parts.push(bytesOf(this.data[l].subarray(0, this.sizes[l] * this.width)));
    const tail = (this.count * this.width * this.data[0].BYTES_PER_ELEMENT) % 8;
    if (tail !== 0) parts.push(new Uint8Array(8 - tail));
    return parts;
  }

  /**
   * Rebuilds lists from a payload written by toParts(), starting at `offset`; returns the
   * offset after them. Copies into lists of exact size, so the file buffer can be dropped.
   */
  static read<T extends Payload>(
    file: string,
    payload: Uint8Array,
    offset: number,
    nlist: number,
    width: number,
    make: (n: number) => T,
    expectCount: number,
  ): { lists: InvertedLists<T>; end: number } {
    const need = (bytes: number): void => {
      if (offset + bytes > payload.byteLength) throw new IndexFileError(file, 'the payload is shorter than its lists say');
    };
    const sizesLen = nlist + (nlist & 1);
    need(sizesLen * 4);
    const sizes = new Uint32Array(copyBytes(payload, offset, sizesLen * 4));
    offset += sizesLen * 4;
    let total = 0;
    for (let l = 0; l < nlist; l++) total += sizes[l];
    if (total !== expectCount) throw new IndexFileError(file, `its lists hold ${total} vectors, the header says ${expectCount}`);
    const lists = new InvertedLists<T>(nlist, width, make, total);
    for (let l = 0; l < nlist; l++) {
      const n = sizes[l];
      need(n * 8);
      lists.ids[l] = new Float64Array(copyBytes(payload, offset, n * 8));
      offset += n * 8;
      lists.sizes[l] = n;
    }
    const elem = make(0).BYTES_PER_ELEMENT;
    for (let l = 0; l < nlist; l++) {
      const bytes = sizes[l] * width * elem;
      need(bytes);
      const data = make(sizes[l] * width);
      new Uint8Array(data.buffer, data.byteOffset, bytes).set(payload.subarray(offset, offset + bytes));
      lists.data[l] = data;
      offset += bytes;
    }
    offset += (8 - ((total * width * elem) % 8)) % 8;
    for (let l = 0; l < nlist; l++) {
      const ids = lists.ids[l];
      for (let s = 0; s < ids.length; s++) {
        const id = ids[s];
        if (!Number.isSafeInteger(id) || id < 0 || lists.locations.find(id) >= 0) {
          throw new IndexFileError(file, `list ${l} holds an invalid or repeated id ${id}`);
        }
        lists.locations.set(id, l, s);
      }
    }
    lists.count = total;
    return { lists, end: offset };
  }
}

export function bytesOf(a: Float32Array | Float64Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** `bytes` followed by zeros up to a multiple of 8, so the next section stays aligned. */
export function padded(bytes: Uint8Array): PayloadPart[] {
  const tail = bytes.byteLength % 8;
  return tail === 0 ? [bytes] : [bytes, new Uint8Array(8 - tail)];
}

export const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** A fresh, aligned ArrayBuffer holding payload[offset..offset+bytes). */
export function copyBytes(payload: Uint8Array, offset: number, bytes: number): ArrayBuffer {
  const out = new ArrayBuffer(bytes);
  new Uint8Array(out).set(payload.subarray(offset, offset + bytes));
  return out;
}

// ---------------------------------------------------------------------------------------
// Coarse quantizer
// ---------------------------------------------------------------------------------------

/**
 * Coarse k-means trains on at most this many sampled vectors per list. FAISS uses 256; on
 * 20k MiniLM vectors (141 lists) 64 gave the same recall (0.964 vs 0.966 at nprobe 28) in
 * a quarter of the time, and FAISS's own floor is 39.
 */
export const TRAIN_POINTS_PER_LIST = 64;

/** nlist unit centroids; assigns by highest inner product and picks the lists to probe. */
export class CoarseQuantizer {
  private readonly heap = new TopK(16);
  private readonly tmp = new Float64Array(4);
  /**
   * Centroids resident in WebAssembly memory for the SIMD scan kernel (about 5x the JS dot4
   * loop; the coarse scan is a third of a query at nlist 1024), made on first probe. Layout
   * in floats: centroids, zeros (nlist), scores (nlist), query (dims). Null: JS loops.
   */
  private simd: SimdScanner | null | undefined;

  constructor(readonly dims: number, readonly nlist: number, readonly centroids: Float32Array) {}

  static train(sample: Float32Array, count: number, dims: number, nlist: number, seed: number, maxIter: number): CoarseQuantizer {
    const res = kmeans(sample, count, dims, nlist, { metric: 'ip', seed, maxIter, maxPointsPerCentroid: TRAIN_POINTS_PER_LIST });
    return new CoarseQuantizer(dims, nlist, res.centroids);
  }

  private scanner(): SimdScanner | null {
    if (this.simd !== undefined) return this.simd;
    const { dims, nlist } = this;
    this.simd = dims % 4 === 0 ? SimdScanner.create(nlist * dims + 2 * nlist + dims) : null;
    if (this.simd !== null) {
      this.simd.f32.set(this.centroids.subarray(0, nlist * dims), 0);
      this.simd.f32.fill(0, nlist * dims, nlist * dims + nlist);
    }
    return this.simd;
  }

  /**
   * Writes the `nprobe` lists of highest centroid score, best first, to lists/scores;
   * returns how many (min(nprobe, nlist)).
   */
  probe(q: Float32Array, nprobe: number, lists: Float64Array, scores: Float64Array): number {
    const { dims, nlist, centroids, tmp, heap } = this;
    const n = Math.min(nprobe, nlist);
    heap.reset(n);
    const simd = this.scanner();
    if (simd !== null) {
      const zeros = nlist * dims;
      const out = zeros + nlist;
      const qAt = out + nlist;
      const f = simd.f32;
      f.set(q.subarray(0, dims), qAt);
      simd.scan(qAt, 0, nlist, dims, zeros, out);
      for (let c = 0; c < nlist; c++) heap.push(f[out + c], c);
      return heap.drainInto(scores, lists);
    }
    const n4 = nlist - (nlist & 3);
    let c = 0;
    for (; c < n4; c += 4) {
      dot4(q, 0, centroids, c * dims, dims, tmp, 0);
      heap.push(tmp[0], c);
      heap.push(tmp[1], c + 1);
      heap.push(tmp[2], c + 2);
      heap.push(tmp[3], c + 3);
    }
    for (; c < nlist; c++) heap.push(dot(q, 0, centroids, c * dims, dims), c);
    return heap.drainInto(scores, lists);
  }

  /** Centroids, plus their copy in the SIMD scanner's memory once made. */
  get memoryBytes(): number {
    return this.centroids.byteLength + (this.simd ? this.simd.f32.byteLength : 0);
  }
}

/**
 * Pushes <q, row i> for n contiguous rows into the heap, four rows per dot4 call (each
 * query element loaded once for four rows).
 */
export function scanRows(q: Float32Array, rows: Float32Array, ids: Float64Array, n: number, d: number, heap: TopK, tmp: Float64Array): void {
  const n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    dot4(q, 0, rows, i * d, d, tmp, 0);
    heap.push(tmp[0], ids[i]);
    heap.push(tmp[1], ids[i + 1]);
    heap.push(tmp[2], ids[i + 2]);
    heap.push(tmp[3], ids[i + 3]);
  }
  // dot1 sums in dot4's order, so equal rows score equal wherever they sit.
  for (; i < n; i++) heap.push(dot1(q, 0, rows, i * d, d), ids[i]);
}

// ---------------------------------------------------------------------------------------
// What IVF and IVF-PQ share: parameters, training of the coarse quantizer, lists, probing
// ---------------------------------------------------------------------------------------

export interface IvfParams {
  /** Lists (k-means cells). Default: about sqrt(training vectors), at most one per 39 of them. */
  nlist?: number;
  /**
   * Lists probed per query; SearchParams.nprobe overrides it per query. Default: a fifth of
   * the lists, at least 20 (defaultNprobe). Measured with MiniLM vectors: recall@10 0.966
   * on 20k Wikipedia passages (29 of 141 lists; nprobe 10 gave 0.883) and 0.965 on SciFact
   * (5,183 abstracts, real claims as queries; 20 of 72 lists; a fifth, 15, gave 0.942).
   */
  nprobe?: number;
  /** k-means seed (default 1234): same data and seed, same index. */
  seed?: number;
  /** k-means iterations at most (default 10, as FAISS's IVF training). */
  trainIterations?: number;
}

export const IVF_DEFAULTS = { seed: KMEANS_DEFAULT_SEED, trainIterations: 10 } as const;

/** Default nprobe for `nlist` lists: a fifth of them, at least 20 (all when fewer). */
export function defaultNprobe(nlist: number): number {
  return Math.min(nlist, Math.max(20, Math.ceil(nlist / 5)));
}

/** Construction params as read back from an index file's header. */
export function ivfParamsFrom(params: Record<string, unknown>): IvfParams {
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return { nlist: num(params.nlist), nprobe: num(params.nprobe), seed: num(params.seed), trainIterations: num(params.trainIterations) };
}

/**
 * The coarse half of an IVF index. Subclasses decide what a list entry holds (a full
 * vector, or a PQ code) and how a probed list is scanned.
 */
export abstract class IvfBase<T extends Payload> {
  abstract readonly type: 'ivf' | 'ivfpq';
  protected coarse: CoarseQuantizer | null = null;
  protected lists: InvertedLists<T> | null = null;
  protected readonly nlistParam: number | undefined;
  protected readonly nprobeParam: number | undefined;
  protected readonly seed: number;
  protected readonly trainIterations: number;
  protected probeLists = new Float64Array(16);
  protected probeScores = new Float64Array(16);

  constructor(readonly dims: number, params: IvfParams) {
    checkDims(dims);
    this.nlistParam = params.nlist === undefined ? undefined : positiveInt('nlist', params.nlist, 1);
    this.nprobeParam = params.nprobe === undefined ? undefined : positiveInt('nprobe', params.nprobe, 1);
    this.seed = params.seed ?? IVF_DEFAULTS.seed;
    if (!Number.isInteger(this.seed)) throw new InvalidInputError(`seed must be an integer, got ${this.seed}`);
    this.trainIterations = positiveInt('trainIterations', params.trainIterations, IVF_DEFAULTS.trainIterations);
  }

  get size(): number {
    return this.lists?.size ?? 0;
  }

  get needsTraining(): boolean {
    return this.coarse === null;
  }

  /** Lists in force: the trained count, or the configured one before training. */
  get nlist(): number | undefined {
    return this.coarse?.nlist ?? this.nlistParam;
  }

  /** nprobe in force: the configured one, or the default for the lists. */
  get nprobe(): number | undefined {
    if (this.nprobeParam !== undefined) return this.nprobeParam;
    const nlist = this.nlist;
    return nlist === undefined ? undefined : defaultNprobe(nlist);
  }

  /** Learns the coarse centroids (and whatever the subclass needs) from `count` sample vectors. */
  train(sample: Float32Array, count: number): void {
    checkTrainingSample(sample, count, this.dims);
    if (this.size > 0) {
      throw new InvalidInputError(`${this.type} index already holds ${this.size} vectors; train a new index instead of retraining this one`);
    }
    const nlist = this.nlistParam ?? defaultNlist(count);
    if (count < nlist) {
      throw new InvalidInputError(
        `${this.type} training needs at least nlist = ${nlist} vectors (39 x nlist = ${39 * nlist} recommended), got ${count}; train on more vectors or lower nlist`,
      );
    }
    this.checkTrainingCount(count);
    warnSmallTraining(this.type, count, nlist);
    const coarse = CoarseQuantizer.train(sample, count, this.dims, nlist, this.seed, this.trainIterations);
    this.trainPayload(sample, count, coarse);
    this.coarse = coarse;
    this.lists = this.newLists(nlist);
  }

  /** Throws when `count` training vectors are too few for the subclass. */
  protected abstract checkTrainingCount(count: number): void;
  /** Trains what the list entries need (IVF-PQ: codebooks), before the index counts as trained. */
  protected abstract trainPayload(sample: Float32Array, count: number, coarse: CoarseQuantizer): void;
  protected abstract newLists(nlist: number): InvertedLists<T>;

  /** Validates an add() batch; returns the trained parts and each vector's list. */
  protected prepareAdd(ids: ArrayLike<number>, vectors: Float32Array): { coarse: CoarseQuantizer; lists: InvertedLists<T>; assign: Int32Array } {
    const { coarse, lists } = this;
    if (coarse === null || lists === null) {
      throw new InvalidInputError(`${this.type} index is not trained: call train() with sample vectors before add()`);
    }
    for (let i = 0; i < ids.length; i++) checkId(ids[i]);
    checkVectors('add()', vectors, ids.length, this.dims);
    const assign = new Int32Array(ids.length);
    assignBatch(vectors, 0, ids.length, this.dims, coarse.centroids, coarse.nlist, null, assign);
    lists.reserve(assign, ids.length);
    return { coarse, lists, assign };
  }

  remove(ids: ArrayLike<number>): number {
    const lists = this.lists;
    if (lists === null) return 0;
    let removed = 0;
    for (let i = 0; i < ids.length; i++) if (lists.remove(ids[i])) removed++;
    return removed;
  }

  has(id: number): boolean {
    return this.lists?.has(id) ?? false;
  }

  /**
   * Validates a query and picks the lists to scan into probeLists / probeScores; returns
   * how many, 0 when there is nothing to search.
   */
  protected probe(query: Float32Array, k: number, params: SearchParams | undefined): number {
    checkK(k);
    checkQuery(query, this.dims);
    const nprobe = positiveInt('nprobe', params?.nprobe, this.nprobe ?? 1);
    const { coarse, lists } = this;
    if (coarse === null || lists === null || k === 0 || lists.size === 0) return 0;
    if (this.probeLists.length < nprobe) {
      this.probeLists = new Float64Array(nprobe);
      this.probeScores = new Float64Array(nprobe);
    }
    return coarse.probe(query, nprobe, this.probeLists, this.probeScores);
  }

  protected memoryBytes(): number {
    return (this.coarse?.memoryBytes ?? 0) + (this.lists?.memoryBytes ?? 0);
  }

  stats(): IndexStats {
    return {
      type: this.type,
      dims: this.dims,
      size: this.size,
      trained: !this.needsTraining,
      memoryBytes: this.memoryBytes(),
      params: this.statsParams(),
    };
  }

  /** Params for stats(): what is in force ('auto' where training will decide). */
  protected statsParams(): Record<string, number | string | boolean> {
    return { nlist: this.nlist ?? 'auto', nprobe: this.nprobe ?? 'auto', seed: this.seed, trainIterations: this.trainIterations };
  }

  /** Params for the file header: as configured, so 'auto' stays auto after a reload. */
  protected headerParams(): Record<string, unknown> {
    return {
      nlist: this.nlist ?? null,
      nprobe: this.nprobeParam ?? null,
      seed: this.seed,
      trainIterations: this.trainIterations,
      trained: this.coarse !== null,
    };
  }

  /** The payload: centroids, then `extra` sections, then the lists. */
  protected payloadParts(extra: Uint8Array[]): PayloadPart[] {
    if (this.coarse === null || this.lists === null) return [];
    const parts: PayloadPart[] = [...padded(bytesOf(this.coarse.centroids))];
    for (const e of extra) parts.push(...padded(e));
    parts.push(...this.lists.toParts());
    // Node 20's zlib.crc32 returns 0 for a view of a zero-length ArrayBuffer whatever the
    // running value, which would corrupt writeIndexFile's CRC: never hand it empty parts.
    return parts.filter((p) => !(p instanceof Uint8Array) || p.byteLength > 0);
  }

  /**
   * Restores centroids and lists from a payload written by payloadParts(); `readExtra`
   * reads the subclass's sections at the given offset and returns the offset after them.
   */
  protected restore(
    file: string,
    count: number,
    params: Record<string, unknown>,
    payload: Uint8Array,
    width: number,
    make: (n: number) => T,
    readExtra: (offset: number) => number,
  ): void {
    if (params.trained !== true) {
      if (count !== 0 || payload.byteLength !== 0) throw new IndexFileError(file, `an untrained ${this.type} index cannot hold vectors`);
      return;
    }
    const nlist = params.nlist;
    if (typeof nlist !== 'number' || !Number.isInteger(nlist) || nlist < 1) throw new IndexFileError(file, `nlist ${String(nlist)} is invalid`);
    const cBytes = nlist * this.dims * 4;
    if (payload.byteLength < cBytes) throw new IndexFileError(file, 'the payload is shorter than its centroids');
    const centroids = new Float32Array(copyBytes(payload, 0, cBytes));
    const listsAt = readExtra(align8(cBytes));
    const { lists, end } = InvertedLists.read(file, payload, listsAt, nlist, width, make, count);
    if (end !== payload.byteLength) throw new IndexFileError(file, `the payload has ${payload.byteLength - end} unexpected trailing bytes`);
    this.coarse = new CoarseQuantizer(this.dims, nlist, centroids);
    this.lists = lists;
  }
}

// ---------------------------------------------------------------------------------------
// IvfIndex
// ---------------------------------------------------------------------------------------

/** Candidates beyond k taken on float32 SIMD scores before the exact float64 rescoring. */
const RESCORE_MARGIN = 16;

/** Full-precision IVF: exact scores within the probed lists; nprobe = nlist is exact search. */
export class IvfIndex extends IvfBase<Float32Array> implements VectorIndex {
  readonly type = 'ivf' as const;
  private readonly heap = new TopK(16);
  private readonly tmp = new Float64Array(4);

  constructor(dims: number, params: IvfParams = {}) {
    super(dims, params);
  }

  protected checkTrainingCount(): void {}

  protected trainPayload(): void {}

  protected newLists(nlist: number): InvertedLists<Float32Array> {
    return new InvertedLists(nlist, this.dims, (n) => new Float32Array(n));
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    const { lists, assign } = this.prepareAdd(ids, vectors);
    const d = this.dims;
    for (let i = 0; i < ids.length; i++) lists.insert(assign[i], ids[i], vectors, i * d);
  }

  search(query: Float32Array, k: number, params?: SearchParams): VectorHit[] {
    const probed = this.probe(query, k, params);
    const lists = this.lists;
    if (probed === 0 || lists === null) return [];
    const heap = this.heap;
    heap.reset(Math.min(k, lists.size));
    const d = this.dims;
    let longest = 0;
    for (let p = 0; p < probed; p++) longest = Math.max(longest, lists.sizes[this.probeLists[p]]);
    const simd = this.listScanner(longest);
    if (simd === null) {
      for (let p = 0; p < probed; p++) {
        const l = this.probeLists[p];
        scanRows(query, lists.data[l], lists.ids[l], lists.sizes[l], d, heap, this.tmp);
      }
      return heap.drainHits();
    }
    // Each probed list is copied next to the query and scored by the SIMD kernel: the copy
    // runs at memcpy speed and the kernel at ~5x the JS loop. Its float32 sums pick a few
    // more candidates than k, which are then rescored exactly (float64, dot1) so scores and
    // order match the JS path and brute force.
    const f = simd.f32;
    const zeros = d;
    const out = zeros + this.simdRows;
    const base = out + this.simdRows;
    f.set(query.subarray(0, d), 0);
    const wide = this.wide;
    const w = Math.min(k + RESCORE_MARGIN, lists.size);
    wide.reset(w);
    if (this.candIds.length < w) {
      this.candIds = new Float64Array(w);
      this.candScores = new Float64Array(w);
    }
    for (let p = 0; p < probed; p++) {
      const l = this.probeLists[p];
      const n = lists.sizes[l];
      if (n === 0) continue;
      f.set(lists.data[l].subarray(0, n * d), base);
      simd.scan(0, base, n, d, zeros, out);
      const ids = lists.ids[l];
      for (let i = 0; i < n; i++) wide.push(f[out + i], ids[i]);
    }
    const m = wide.drainInto(this.candScores, this.candIds);
    const loc = lists.locations;
    for (let i = 0; i < m; i++) {
      const id = this.candIds[i];
      const b = loc.find(id);
      heap.push(dot1(query, 0, lists.data[loc.listAt(b)], loc.slotAt(b) * d, d), id);
    }
    return heap.drainHits();
  }

  private simd: SimdScanner | null | undefined;
  /** Rows the scanner holds: the longest list probed so far, rounded up. */
  private simdRows = 0;
  private readonly wide = new TopK(16);
  private candScores = new Float64Array(0);
  private candIds = new Float64Array(0);

  /**
   * A scanner with room for one list of `rows` rows (layout in floats: query, zeros, scores,
   * rows), grown by doubling; null when SIMD is unavailable or dims is not a multiple of 4.
   */
  private listScanner(rows: number): SimdScanner | null {
    if (this.simd === null) return null;
    if (this.simd !== undefined && rows <= this.simdRows) return this.simd;
    const d = this.dims;
    if (d % 4 !== 0) return (this.simd = null);
    const cap = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, rows))));
    const next = SimdScanner.create(d + 2 * cap + cap * d);
    if (next === null) return (this.simd = null);
    this.simd = next;
    this.simdRows = cap;
    return next;
  }

  /** Lists, centroids, and the scan scratch (one list, the longest probed so far). */
  protected override memoryBytes(): number {
    return super.memoryBytes() + (this.simd ? this.simd.f32.byteLength : 0);
  }

  /** Header params and payload parts for the shared index file. */
  serialize(): { params: Record<string, unknown>; parts: PayloadPart[] } {
    return { params: this.headerParams(), parts: this.payloadParts([]) };
  }

  static deserialize(file: string, dims: number, count: number, params: Record<string, unknown>, payload: Uint8Array): IvfIndex {
    let index: IvfIndex;
    try {
      index = new IvfIndex(dims, ivfParamsFrom(params));
    } catch (e) {
      if (e instanceof InvalidInputError) throw new IndexFileError(file, `its params are invalid (${e.message})`);
      throw e;
    }
    index.restore(file, count, params, payload, dims, (n) => new Float32Array(n), (offset) => offset);
    return index;
  }

  async save(path: string): Promise<void> {
    const { params, parts } = this.serialize();
    await writeIndexFile(path, { type: this.type, dims: this.dims, count: this.size, params }, parts);
  }

  static async load(path: string): Promise<IvfIndex> {
    const { header, payload } = await readIndexFile(path, 'ivf');
    return IvfIndex.deserialize(path, header.dims, header.count, header.params, payload);
  }
}

/**
 * Checks params given by name (registry, config files): a misspelt or mistyped one would
 * otherwise be ignored silently and its default used.
 */
export function numericParams(type: string, params: Record<string, unknown>, known: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!known.includes(key)) {
      throw new InvalidInputError(`unknown ${type} index param "${key}" (known: ${known.join(', ')})`, { field: 'params' });
    }
    if (value === undefined) continue;
    if (typeof value !== 'number') throw new InvalidInputError(`${type} index param ${key} must be a number, got ${typeof value}`, { field: 'params' });
    out[key] = value;
  }
  return out;
}

export const IVF_PARAM_NAMES = ['nlist', 'nprobe', 'seed', 'trainIterations'] as const;

registerIndexType('ivf', {
  create: (dims, params) => new IvfIndex(dims, numericParams('ivf', params, IVF_PARAM_NAMES)),
  load: (path) => IvfIndex.load(path),
});
