import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import usearch, { type Index, type Matches } from 'usearch';
import { InvalidInputError, QuarryError } from '../errors.js';
import { checkAdd, checkSearch, byScoreThenId } from './flat-index.js';
import { extractPayload, IndexFileError, writeIndexFile } from './index-file.js';
import type { IndexStats, SearchParams, VectorHit, VectorIndex } from './vector-index.js';

export type HnswQuantization = 'f32' | 'f16' | 'i8';

export interface HnswOptions {
  /** M: graph edges per node (2M on the bottom layer). */
  connectivity?: number;
  /** efConstruction: candidate list size while inserting. */
  expansionAdd?: number;
  /** efSearch used when a query does not pass its own. */
  expansionSearch?: number;
  /** How usearch stores vectors: f32 (exact scores), f16 (half the memory), i8 (a quarter). */
  quantization?: HnswQuantization;
  /**
   * Threads for add (0 = all cores). Default 1: usearch 2.26's concurrent add can leave nodes
   * no search reaches (unum-cloud/USearch#735; measured here: 0-10 of 3000 per build).
   */
  addThreads?: number;
}

export interface HnswLoadOptions {
  /** Memory-map the graph read-only instead of reading it into RAM (add/remove then throw). */
  mmap?: boolean;
}

export const HNSW_DEFAULTS: Readonly<Required<HnswOptions>> = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  quantization: 'f32',
  addThreads: 1,
};

const SCALAR = { f32: usearch.ScalarKind.F32, f16: usearch.ScalarKind.F16, i8: usearch.ScalarKind.I8 } as const;
const BYTES_PER_SCALAR = { f32: 4, f16: 2, i8: 1 } as const;
/**
 * usearch's i8 keeps trunc(x * 127 / |x|), so its dot is about 127² times the cosine (a little
 * less: truncation shrinks every component; see the hnsw tests for the measured bias).
 */
const I8_SCALE = 127 * 127;
const MAX_KEY = BigInt(Number.MAX_SAFE_INTEGER);

export class IndexReadOnlyError extends QuarryError {
  constructor(what: string) {
    super('INDEX_READ_ONLY', 'conflict', `cannot ${what}: the index is memory-mapped read-only; load it without mmap to change it`);
  }
}

function checkOptions(o: Required<HnswOptions>): void {
  const int = (name: string, v: unknown, min: number): void => {
    if (!Number.isInteger(v) || (v as number) < min) throw new InvalidInputError(`hnsw ${name} must be an integer >= ${min}, got ${String(v)}`, { field: name });
  };
  int('connectivity', o.connectivity, 2);
  int('expansionAdd', o.expansionAdd, 1);
  int('expansionSearch', o.expansionSearch, 1);
  int('addThreads', o.addThreads, 0);
  if (!(o.quantization in SCALAR)) {
    throw new InvalidInputError(`hnsw quantization must be one of ${Object.keys(SCALAR).join(', ')}, got ${String(o.quantization)}`, { field: 'quantization' });
  }
}

/**
 * Approximate search on USearch's HNSW graph (inner product). Notes on usearch that shape this:
 * - `expansion_search` is fixed at construction, but a search widens its beam to
 *   max(expansion, wanted). So the native index is built with expansion 1 and a query asks
 *   for max(k, efSearch) results and keeps the best k: HNSW with that ef, per query, with no
 *   re-created index.
 * - A duplicate key is refused, so re-adding an id removes it first. Removal leaves a
 *   tombstone (still a graph node) that a later add reuses; `stats().params.tombstones`
 *   counts the ones left. Many of them slow search: rebuild from the collection's vectors.
 * - The JS binding loads only from a path, so `load` copies the payload to a temp file,
 *   loads (or memory-maps) it and unlinks it (a mapping outlives the unlink on POSIX).
 */
export class HnswIndex implements VectorIndex {
  readonly type = 'hnsw' as const;
  readonly needsTraining = false;
  readonly options: Readonly<Required<HnswOptions>>;
  private readonly native: Index;
  private tombstones = 0;
  private readOnly = false;

  constructor(readonly dims: number, options: HnswOptions = {}) {
    if (!Number.isInteger(dims) || dims <= 0) throw new InvalidInputError(`dims must be a positive integer, got ${String(dims)}`);
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const o = { ...HNSW_DEFAULTS, ...given } as Required<HnswOptions>;
    checkOptions(o);
    this.options = Object.freeze(o);
    this.native = new usearch.Index({
      dimensions: dims,
      metric: usearch.MetricKind.IP,
      quantization: SCALAR[o.quantization],
      connectivity: o.connectivity,
      expansion_add: o.expansionAdd,
      expansion_search: 1, // see the class comment: ef is applied per query
      multi: false,
    });
  }

  static async load(path: string, opts: HnswLoadOptions = {}): Promise<HnswIndex> {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.usearch`);
    try {
      const { header } = await extractPayload(path, tmp, 'hnsw');
      const p = header.params;
      let idx: HnswIndex;
      try {
        idx = new HnswIndex(header.dims, {
          connectivity: p.connectivity as number,
          expansionAdd: p.expansionAdd as number,
          expansionSearch: p.expansionSearch as number,
          quantization: p.quantization as HnswQuantization,
        });
      } catch (e) {
        throw new IndexFileError(path, `its hnsw params are invalid (${(e as Error).message})`);
      }
      try {
        if (opts.mmap) idx.native.view(tmp);
        else idx.native.load(tmp);
      } catch (e) {
        throw new IndexFileError(path, `usearch cannot read its graph (${(e as Error).message})`);
      }
      if (idx.native.dimensions() !== header.dims || idx.native.size() !== header.count) {
        throw new IndexFileError(path, `its graph holds ${idx.native.size()} vectors of ${idx.native.dimensions()} dimensions, the header says ${header.count} of ${header.dims}`);
      }
      idx.tombstones = Number.isSafeInteger(p.tombstones) ? (p.tombstones as number) : 0;
      idx.readOnly = opts.mmap === true;
      return idx;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  get size(): number {
    return this.native.size();
  }

  train(): void {
    // Nothing to learn: the graph is built on add.
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    if (this.readOnly) throw new IndexReadOnlyError('add vectors');
    checkAdd(this.dims, ids, vectors);
    if (ids.length === 0) return;
    // usearch adds a batch in parallel: a key twice in one batch would slip past its duplicate
    // check, so the last occurrence wins here.
    const last = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) last.set(ids[i], i);
    let keys: BigUint64Array;
    let rows = vectors;
    if (last.size === ids.length) {
      keys = BigUint64Array.from({ length: ids.length }, (_, i) => BigInt(ids[i]));
    } else {
      keys = new BigUint64Array(last.size);
      rows = new Float32Array(last.size * this.dims);
      let j = 0;
      for (const [id, i] of last) {
        keys[j] = BigInt(id);
        rows.set(vectors.subarray(i * this.dims, (i + 1) * this.dims), j++ * this.dims);
      }
    }
    const present = this.native.contains(keys) as boolean[];
    const replaced = keys.filter((_, i) => present[i]);
    if (replaced.length > 0) this.tombstones += sum(this.native.remove(replaced) as number[]);
    this.native.add(keys, rows, this.options.addThreads);
    // Each insert first reuses a removed node, if there is one.
    this.tombstones = Math.max(0, this.tombstones - keys.length);
  }

  remove(ids: ArrayLike<number>): number {
    if (this.readOnly) throw new IndexReadOnlyError('remove vectors');
    const keys: bigint[] = [];
    for (let i = 0; i < ids.length; i++) if (Number.isSafeInteger(ids[i]) && ids[i] >= 0) keys.push(BigInt(ids[i]));
    if (keys.length === 0) return 0;
    const removed = sum(this.native.remove(BigUint64Array.from(keys)) as number[]);
    this.tombstones += removed;
    return removed;
  }

  has(id: number): boolean {
    return Number.isSafeInteger(id) && id >= 0 && (this.native.contains(BigInt(id)) as boolean);
  }

  search(query: Float32Array, k: number, params: SearchParams = {}): VectorHit[] {
    checkSearch(this.dims, query, k);
    const ef = params.efSearch ?? this.options.expansionSearch;
    if (!Number.isInteger(ef) || ef < 1) throw new InvalidInputError(`efSearch must be a positive integer, got ${String(ef)}`, { field: 'efSearch' });
    if (k === 0 || this.size === 0) return [];
    const res = this.native.search(query, Math.max(k, ef), 1) as Matches;
    const i8 = this.options.quantization === 'i8';
    const hits: VectorHit[] = [];
    for (let i = 0; i < res.keys.length; i++) {
      // Guard against padding or a sentinel key; distances are 1 - dot (in i8 units for i8).
      if (res.keys[i] > MAX_KEY) continue;
      const score = i8 ? (1 - res.distances[i]) / I8_SCALE : 1 - res.distances[i];
      if (Number.isFinite(score)) hits.push({ id: Number(res.keys[i]), score });
    }
    return hits.sort(byScoreThenId).slice(0, k);
  }

  async save(path: string): Promise<void> {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.usearch`);
    try {
      this.native.save(tmp);
      const { connectivity, expansionAdd, expansionSearch, quantization } = this.options;
      const params = { metric: 'ip', connectivity, expansionAdd, expansionSearch, quantization, tombstones: this.tombstones };
      await writeIndexFile(path, { type: 'hnsw', dims: this.dims, count: this.size, params }, [{ file: tmp }]);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  stats(): IndexStats {
    const o = this.options;
    const nodes = this.size + this.tombstones;
    // An estimate from usearch's layout (its memory_usage() is not in the JS binding): the
    // vector, 2M u32 bottom-layer links, upper layers (a node reaches layer l with p = M^-l),
    // key + level, and the key->slot and slot->vector lookups.
    const graph = this.dims * BYTES_PER_SCALAR[o.quantization] + (2 * o.connectivity * 4 + 4) + (o.connectivity * 4 + 4) / (o.connectivity - 1) + 10;
    const lookups = 8 + 16;
    return {
      type: 'hnsw',
      dims: this.dims,
      size: this.size,
      trained: true,
      memoryBytes: Math.round(nodes * (lookups + (this.readOnly ? 0 : graph))),
      params: { metric: 'ip', ...o, tombstones: this.tombstones, mmap: this.readOnly },
    };
  }
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
