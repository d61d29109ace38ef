/**
 * The one interface every vector index implements (flat, ivf, ivfpq, hnsw), the way Hono's
 * routers share one interface and one conformance suite (tests/support/index-conformance.ts).
 * Similarity is inner product over unit vectors, i.e. cosine similarity.
 */

/**
 * Every index type, once: the registry loads their modules by these names, and option checks,
 * the HTTP schema's enum and help texts read it. Plain data, so the web page's types can too.
 */
export const INDEX_TYPES = ['flat', 'ivf', 'ivfpq', 'hnsw'] as const;
export type IndexType = (typeof INDEX_TYPES)[number];
/** The list for a sentence: "flat, ivf, ivfpq or hnsw". */
export const INDEX_TYPES_TEXT = `${INDEX_TYPES.slice(0, -1).join(', ')} or ${INDEX_TYPES[INDEX_TYPES.length - 1]}`;

export interface VectorHit {
  /** The caller's id for the vector (a chunk's row id): a non-negative integer below 2^53. */
  id: number;
  /** Inner product with the query; for unit vectors, the cosine similarity in [-1, 1]. */
  score: number;
}

/** Per-query knobs; each index reads the ones it has and ignores the rest. */
export interface SearchParams {
  /** IVF / IVF-PQ: inverted lists probed. */
  nprobe?: number;
  /** HNSW: candidate list size during search. */
  efSearch?: number;
  /** IVF-PQ: candidates rescored exactly from full-precision vectors (0 = no refine). */
  refine?: number;
}

/** Where an index that keeps only compressed codes reads full-precision vectors to refine. */
export interface VectorSource {
  readonly dims: number;
  /** Writes the vectors of `ids`, row-major, into `out` (length ids.length * dims). */
  fetch(ids: ArrayLike<number>, out: Float32Array): void;
}

export interface IndexStats {
  type: IndexType;
  dims: number;
  /** Live vectors (added and not removed). */
  size: number;
  trained: boolean;
  /** Bytes this index holds in memory (codes, lists, graph, centroids; not a VectorSource). */
  memoryBytes: number;
  /** Construction parameters and defaults in force, e.g. { nlist: 100, nprobe: 10 }. */
  params: Record<string, number | string | boolean>;
}

export interface VectorIndex {
  readonly type: IndexType;
  readonly dims: number;
  /** Live vectors. */
  readonly size: number;
  /** True until train() has run, for indexes that need it (ivf, ivfpq); false otherwise. */
  readonly needsTraining: boolean;
  /** Learns centroids / codebooks from `count` row-major sample vectors. */
  train(sample: Float32Array, count: number): void;
  /** Adds vectors; an id that is already present is replaced. Throws if training is needed. */
  add(ids: ArrayLike<number>, vectors: Float32Array): void;
  /** Removes ids (unknown ids are ignored); returns how many were removed. Removed ids never come back. */
  remove(ids: ArrayLike<number>): number;
  has(id: number): boolean;
  /** The best `k` hits, best first, ties broken by smaller id; fewer when the index holds fewer. */
  search(query: Float32Array, k: number, params?: SearchParams): VectorHit[];
  /** Writes the index to one file, atomically (temp + fsync + rename). */
  save(path: string): Promise<void>;
  stats(): IndexStats;
}
