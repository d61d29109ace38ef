import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CollectionCorruptError, InvalidInputError } from '../errors.js';
import { FlatIndex } from '../index/flat-index.js';
import { IndexFileError } from '../index/index-file.js';
import '../index/ivf-index.js';
import '../index/ivfpq-index.js';
import { createIndex, loadIndex } from '../index/registry.js';
import { INDEX_TYPES, INDEX_TYPES_TEXT, type IndexType, type SearchParams, type VectorHit, type VectorIndex } from '../index/vector-index.js';
import type { Collection } from './collection.js';
import { updateLexicalIndex } from './collection-lexical.js';
import type { IndexSettings } from './manifest.js';
import type { VectorRef } from './metadata-db.js';
import { SegmentVectorSource } from './segment-source.js';

export const DEFAULT_RECALL_FLOOR = 0.9;
const RECALL_SAMPLE = 200;
const TRAIN_SAMPLE_MAX = 65_536;
/** Recall is measured again once this share of the vectors it was measured over changed. */
const RECALL_STALE_SHARE = 0.1;

/**
 * Changes a write may leave out of the saved ANN file: readers add them when they load it (as
 * they catch up with any write committed after a save), so a small write does not load and
 * rewrite a file as large as the collection. Scaled with the index, so the amortized cost of a
 * save per write stays flat; small enough that a reader's catch-up (an HNSW insert per added
 * vector) stays a fraction of loading the file.
 */
export function annDeferLimit(vectors: number): number {
  return Math.max(256, Math.ceil(vectors * 0.002));
}

/** What the collection's index is and how good it measured; kept in the metadata database. */
export interface AnnState {
  type: IndexType;
  params: Record<string, number | string>;
  /** Generation whose live set the saved file holds. */
  generation: number;
  /** Exact search stands in until there are enough vectors to train (cold start). */
  fallback: string | null;
  builtAt: string;
  /** recall@10 of the default search params against exact search, on stored chunks as queries. */
  recallAt10: number | null;
  recallQueries: number;
  /**
   * When recall was measured: the version and the index's size then (absent in states saved
   * before quarry recorded it: measured with that save). Kept across later incremental writes
   * until `changedSinceRecall` passes a tenth of `vectors`.
   */
  recallMeasured?: { generation: number; vectors: number; at: string };
  /** Vectors added or removed in saves since recall was measured. */
  changedSinceRecall?: number;
  /** Vectors in the saved file. */
  vectors: number;
  memoryBytes: number;
  /**
   * Chunks that entered or left the live set after `generation`, so are not in the saved file
   * (readers add them on load). Counted when the state is read (readAnnState), never stored:
   * a small write then changes nothing here.
   */
  pendingChanges?: number;
}

/**
 * When and over what the recall in an ANN state was measured, and what the saved file lacks,
 * for `quarry info` and the card: "measured at version 12 over 175432 vectors, 840 changed
 * since; 37 changes not yet in the saved file".
 */
export function describeAnnFreshness(a: Pick<AnnState, 'generation' | 'vectors' | 'builtAt' | 'recallMeasured' | 'changedSinceRecall' | 'pendingChanges'>): string {
  const m = a.recallMeasured ?? { generation: a.generation, vectors: a.vectors };
  const parts = [`measured at version ${m.generation} over ${m.vectors} vectors`];
  if (a.changedSinceRecall) parts.push(`${a.changedSinceRecall} vectors changed since`);
  const text = parts.join(', ');
  return a.pendingChanges ? `${text}; ${a.pendingChanges} changes after version ${a.generation} are not in the saved file yet (readers add them on load)` : text;
}

export function indexFile(c: Collection, type: IndexType): string {
  return join(c.paths.indexes, `${type}.qidx`);
}

export function readAnnState(c: Collection): AnnState | null {
  const raw = c.db.getState('ann');
  if (!raw) return null;
  const state = JSON.parse(raw) as AnnState;
  return state.fallback ? state : { ...state, pendingChanges: c.db.changeCountSince(state.generation) };
}

/** Vectors needed before an index type can be trained well (FAISS warns under 39 per centroid). */
export function trainingThreshold(settings: IndexSettings): number {
  const p = settings.params ?? {};
  const nlist = typeof p.nlist === 'number' ? p.nlist : 0;
  if (settings.type === 'ivf') return Math.max(1000, 39 * nlist);
  if (settings.type === 'ivfpq') return Math.max(1000, 39 * nlist, 39 * 2 ** (typeof p.pqBits === 'number' ? p.pqBits : 8));
  return 0;
}

/** Validates index settings by constructing an empty index of that type. */
export function validateIndexSettings(settings: IndexSettings, dims: number): void {
  if (!INDEX_TYPES.includes(settings.type)) {
    throw new InvalidInputError(`unknown index type "${settings.type}" (use ${INDEX_TYPES_TEXT})`, { field: 'index' });
  }
  createIndex(settings.type, dims, settings.params ?? {});
  if (settings.recallFloor !== undefined && !(settings.recallFloor >= 0 && settings.recallFloor <= 1)) {
    throw new InvalidInputError('recall floor must be between 0 and 1', { field: 'recallFloor' });
  }
}

/**
 * Brings the collection's ANN index in step with its live set after a write: incremental
 * (add the chunks that became live, remove those that left) when a saved index of the same
 * settings exists, a full build otherwise; trains when the collection first has enough
 * vectors; then measures recall@10 against exact search and records it. Returns notes for the
 * user (cold-start fallback, recall under the floor).
 */
export async function updateCollectionIndex(c: Collection, opts: { rebuild?: boolean } = {}): Promise<{ state: AnnState | null; notes: string[] }> {
  const settings = c.manifest.index;
  const notes: string[] = [];
  if (settings.type === 'flat') {
    if (c.db.getState('ann')) c.db.transaction(() => c.db.setState('ann', ''));
    return { state: null, notes };
  }
  const head = c.db.head();
  const prev = readAnnState(c);
  const sameSettings = prev && prev.type === settings.type && JSON.stringify(prev.params) === JSON.stringify(settings.params ?? {});
  const file = indexFile(c, settings.type);
  let index: VectorIndex | null = null;
  let live: VectorRef[] | null = null;
  let changed = 0;

  if (!opts.rebuild && sameSettings && !prev!.fallback && existsSync(file) && c.db.canTellChangesSince(prev!.generation)) {
    const { added, removed } = c.db.changesSince(prev!.generation);
    changed = added.length + removed.length;
    if (changed <= annDeferLimit(prev!.vectors)) {
      // a small write: the saved file and its state stay as they are (readers catch up with these changes)
      return { state: { ...prev!, pendingChanges: changed }, notes };
    }
    // a damaged saved index is derived data: the write builds it anew instead (below)
    index = await loadIndex(file, { type: settings.type }).catch((e: unknown) => {
      if (e instanceof IndexFileError) return null;
      throw e;
    });
    if (index) {
      attachSource(c, index);
      index.remove(removed);
      await addRefs(c, index, added);
    }
  }
  const incremental = index !== null;
  if (!index) {
    live = c.db.liveVectorRefs();
    const threshold = trainingThreshold(settings);
    if (live.length < threshold) {
      const fallback = `${live.length} vectors are too few to train ${settings.type} (needs ${threshold}); searching exactly until then`;
      notes.push(fallback);
      const state: AnnState = {
        type: settings.type,
        params: settings.params ?? {},
        generation: head,
        fallback,
        builtAt: new Date().toISOString(),
        recallAt10: 1,
        recallQueries: 0,
        vectors: live.length,
        memoryBytes: 0,
      };
      c.db.transaction(() => c.db.setState('ann', JSON.stringify(state)));
      if (existsSync(file)) await unlink(file);
      return { state, notes };
    }
    index = createIndex(settings.type, c.manifest.model.dims, settings.params ?? {});
    attachSource(c, index);
    if (index.needsTraining) {
      const sample = live.length <= TRAIN_SAMPLE_MAX ? live : sampleOf(live, TRAIN_SAMPLE_MAX);
      const vecs = await vectorsOf(c, sample);
      index.train(vecs, sample.length);
    }
    await addRefs(c, index, live);
  }
  await index.save(file);
  // Recall is measured on a build, and after incremental saves only once the vectors changed
  // since the last measurement pass a tenth of those it was measured over: measuring reads every
  // vector, which a write that changed a few must not cost.
  const measured = prev?.recallMeasured ?? (prev ? { generation: prev.generation, vectors: prev.vectors, at: prev.builtAt } : null);
  const changedSinceRecall = (prev?.changedSinceRecall ?? 0) + changed;
  const keep = incremental && measured !== null && changedSinceRecall <= RECALL_STALE_SHARE * measured.vectors;
  const recall = keep
    ? { recallAt10: prev!.recallAt10, queries: prev!.recallQueries, measured: measured!, changedSinceRecall }
    : { ...(await measureRecall(c, index)), measured: { generation: head, vectors: index.size, at: new Date().toISOString() }, changedSinceRecall: 0 };
  const floor = settings.recallFloor ?? DEFAULT_RECALL_FLOOR;
  if (!keep && recall.recallAt10 !== null && recall.recallAt10 < floor) {
    notes.push(
      `WARNING: the ${settings.type} index measured recall@10 ${recall.recallAt10.toFixed(3)}, under the floor ${floor}: ` +
        `searches will miss relevant chunks; raise nprobe / efSearch / refine or use another index`,
    );
  }
  const state: AnnState = {
    type: settings.type,
    params: settings.params ?? {},
    generation: head,
    fallback: null,
    builtAt: new Date().toISOString(),
    recallAt10: recall.recallAt10,
    recallQueries: recall.queries,
    recallMeasured: recall.measured,
    changedSinceRecall: recall.changedSinceRecall,
    vectors: index.size,
    memoryBytes: index.stats().memoryBytes,
  };
  c.db.transaction(() => c.db.setState('ann', JSON.stringify(state)));
  return { state, notes };
}

/**
 * After a write: the vector index (updateCollectionIndex; `rebuild` drops its tombstones)
 * and the BM25 index (incremental: chunk ids never change, removal is exact; `rebuild`
 * (compact, gc) writes it anew from the stored text, which also repairs a damaged file).
 */
export async function updateSearchIndexes(c: Collection, opts: { rebuild?: boolean } = {}): Promise<{ state: AnnState | null; notes: string[] }> {
  const out = await updateCollectionIndex(c, opts);
  await updateLexicalIndex(c, { rebuild: opts.rebuild });
  return out;
}

/** The searchable view of a collection for one query session: ANN when built, exact otherwise. */
export class CollectionSearcher {
  private constructor(
    readonly generation: number,
    private readonly ann: VectorIndex | null,
    private exact: FlatIndex | null,
    private readonly c: Collection,
  ) {}

  static async open(c: Collection): Promise<CollectionSearcher> {
    const settings = c.manifest.index;
    const state = readAnnState(c);
    const file = indexFile(c, settings.type);
    const pinned = c.pinnedGeneration;
    // A saved index newer than the pinned version cannot be rewound: search exactly instead.
    const usable =
      state && !state.fallback && state.type === settings.type && (pinned === undefined || state.generation <= pinned) && c.db.canTellChangesSince(state.generation);
    const ann = settings.type !== 'flat' && usable && existsSync(file);
    // Nothing is answered from files that were not verified first: meta.sqlite's structure and
    // every live segment's sha256 (the exact search's loadVectors hashes what it reads; the
    // index file carries its own checksum).
    await c.verifyForReading({ segments: !!ann });
    if (ann) {
      // A writer replaces the file by rename; a load that straddled the swap fails its
      // checksum, and the second attempt reads the new file whole.
      const index = await loadIndex(file, { type: settings.type })
        .catch((e: unknown) => {
          if (e instanceof IndexFileError) return loadIndex(file, { type: settings.type });
          throw e;
        })
        .catch((e: unknown) => {
          if (!(e instanceof IndexFileError)) throw e;
          throw new CollectionCorruptError(c.name, `ANN index file indexes/${settings.type}.qidx is damaged: ${String(e.details.problem)}`, {
            file,
            remedy: `it is derived data: \`quarry repair --collection ${c.name}\` rebuilds it from the vectors`,
          });
        });
      attachSource(c, index);
      // Catch up with writes committed after the index was saved (a writer may be mid-run).
      const { generation, added, removed } = c.db.snapshot(() => ({ generation: pinned ?? c.db.head(), ...c.db.changesSince(state!.generation, pinned) }));
      if (added.length > 0 || removed.length > 0) {
        index.remove(removed);
        await addRefs(c, index, added);
      }
      return new CollectionSearcher(generation, index, null, c);
    }
    const { matrix, ids, generation } = await c.loadVectors();
    return new CollectionSearcher(generation, null, FlatIndex.fromMatrix(c.manifest.model.dims, matrix, ids), c);
  }

  get type(): IndexType {
    return this.ann?.type ?? 'flat';
  }

  get size(): number {
    return this.ann?.size ?? this.exact!.size;
  }

  search(query: Float32Array, k: number, params?: SearchParams): VectorHit[] {
    return this.ann ? this.ann.search(query, k, params) : this.exact!.search(query, k);
  }

  /**
   * Search restricted to `ids` (a metadata filter's matches). A selective filter is searched
   * exactly over its own vectors, so the ANN structure cannot lose its few matches; a broad
   * one searches the index with a widened k and filters, falling back to exact if short.
   */
  async searchWithin(query: Float32Array, k: number, ids: number[], params?: SearchParams): Promise<VectorHit[]> {
    if (ids.length === 0) return [];
    const allowed = new Set(ids);
    const selective = ids.length <= Math.max(2000, this.size * 0.1);
    if (this.ann && !selective) {
      const widened = Math.min(this.size, Math.ceil((k * this.size) / ids.length) * 2 + k, 10_000);
      const hits = this.ann.search(query, widened, params).filter((h) => allowed.has(h.id));
      if (hits.length >= k) return hits.slice(0, k);
    }
    if (!this.ann) {
      // exact already: score only the allowed rows
      return this.exact!.searchAmong(query, k, allowed);
    }
    const refs = this.c.db.snapshot(() => this.c.db.vectorRefsOf(ids));
    const sub = rowsOf(this.c, refs);
    return FlatIndex.fromMatrix(this.c.manifest.model.dims, sub, Float64Array.from(refs, (r) => r.id)).search(query, k);
  }
}

function attachSource(c: Collection, index: VectorIndex): void {
  const withSource = index as VectorIndex & { attachSource?: (s: SegmentVectorSource) => void };
  if (typeof withSource.attachSource !== 'function') return;
  const segs = new Map(c.db.segments().map((s) => [s.id, s]));
  withSource.attachSource(new SegmentVectorSource(c.manifest.model.dims, c.db.liveVectorRefs(c.pinnedGeneration), segs, c.paths.vectors, c.name));
}

/**
 * The vectors of a few refs by positional reads of their rows (a selective filter's matches),
 * never whole segment files: the reader verified every live segment's sha256 when it opened,
 * and each row read is checked to be a finite unit vector again. Rows are read in file order.
 */
function rowsOf(c: Collection, refs: VectorRef[]): Float32Array {
  refs.sort((a, b) => a.segment - b.segment || a.row - b.row);
  const dims = c.manifest.model.dims;
  const source = new SegmentVectorSource(dims, refs, new Map(c.db.segments().map((s) => [s.id, s])), c.paths.vectors, c.name);
  const out = new Float32Array(refs.length * dims);
  try {
    source.fetch(
      refs.map((r) => r.id),
      out,
    );
  } finally {
    source.close();
  }
  return out;
}

async function vectorsOf(c: Collection, refs: VectorRef[]): Promise<Float32Array> {
  const dims = c.manifest.model.dims;
  const out = new Float32Array(refs.length * dims);
  const segs = new Map(c.db.segments().map((s) => [s.id, s]));
  await c.gatherVectors(refs, segs, (i, v) => out.set(v, i * dims));
  return out;
}

/** Adds refs in blocks, so memory stays bounded on large collections. */
async function addRefs(c: Collection, index: VectorIndex, refs: VectorRef[]): Promise<void> {
  const BLOCK = 16_384;
  for (let i = 0; i < refs.length; i += BLOCK) {
    const block = refs.slice(i, i + BLOCK);
    index.add(
      block.map((r) => r.id),
      await vectorsOf(c, block),
    );
  }
}

/** A deterministic sample (every n-th), so the same collection trains the same index. */
function sampleOf<T>(xs: T[], n: number): T[] {
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]);
}

/** recall@10 of the index's default search against exact search, stored chunks as queries (self excluded). */
async function measureRecall(c: Collection, index: VectorIndex): Promise<{ recallAt10: number | null; queries: number }> {
  const { matrix, ids } = await c.loadVectors();
  const n = ids.length;
  if (n < 12) return { recallAt10: null, queries: 0 };
  const dims = c.manifest.model.dims;
  const exact = FlatIndex.fromMatrix(dims, matrix, ids);
  const queries = Math.min(RECALL_SAMPLE, n);
  let found = 0;
  for (let qi = 0; qi < queries; qi++) {
    const row = Math.floor((qi * n) / queries);
    const q = matrix.slice(row * dims, (row + 1) * dims);
    const self = ids[row];
    const truth = exact.search(q, 11).filter((h) => h.id !== self).slice(0, 10);
    const got = new Set(index.search(q, 11).filter((h) => h.id !== self).slice(0, 10).map((h) => h.id));
    for (const t of truth) if (got.has(t.id)) found++;
  }
  return { recallAt10: Math.round((found / (queries * 10)) * 1e4) / 1e4, queries };
}
