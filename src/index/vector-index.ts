/** Nearest-neighbour search by inner product over unit vectors (= cosine similarity). */
export interface VectorHit {
  /** The caller's id for the vector (a chunk's row id). */
  id: number;
  /** Inner product with the query; for unit vectors, the cosine similarity in [-1, 1]. */
  score: number;
}

export interface VectorIndex {
  readonly dims: number;
  readonly size: number;
  /** Adds `ids.length` vectors stored row-major in `vectors`. */
  add(ids: ArrayLike<number>, vectors: Float32Array): void;
  /** The `k` best hits, best first; fewer when the index holds fewer. */
  search(query: Float32Array, k: number): VectorHit[];
}
