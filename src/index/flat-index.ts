import usearch from 'usearch';
import { InvalidInputError } from '../errors.js';
import type { VectorHit, VectorIndex } from './vector-index.js';

/**
 * Exact search: every stored vector is scored. Uses USearch's SIMD exact search (measured
 * here at 28 ms vs 108 ms for a plain JS loop on 100k x 384).
 */
export class FlatIndex implements VectorIndex {
  private matrix: Float32Array;
  private ids: Float64Array;
  private count = 0;

  constructor(readonly dims: number, capacity = 1024) {
    this.matrix = new Float32Array(Math.max(1, capacity) * dims);
    this.ids = new Float64Array(Math.max(1, capacity));
  }

  /** Wraps an existing row-major matrix without copying. */
  static fromMatrix(dims: number, matrix: Float32Array, ids: Float64Array): FlatIndex {
    const idx = new FlatIndex(dims, 1);
    idx.matrix = matrix;
    idx.ids = ids;
    idx.count = ids.length;
    return idx;
  }

  get size(): number {
    return this.count;
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    if (vectors.length !== ids.length * this.dims) {
      throw new InvalidInputError(`expected ${ids.length * this.dims} floats for ${ids.length} vectors, got ${vectors.length}`);
    }
    const need = this.count + ids.length;
    if (need > this.ids.length) {
      const cap = Math.max(need, this.ids.length * 2);
      const m = new Float32Array(cap * this.dims);
      m.set(this.matrix.subarray(0, this.count * this.dims));
      const i = new Float64Array(cap);
      i.set(this.ids.subarray(0, this.count));
      this.matrix = m;
      this.ids = i;
    }
    this.matrix.set(vectors, this.count * this.dims);
    for (let k = 0; k < ids.length; k++) this.ids[this.count + k] = ids[k];
    this.count = need;
  }

  search(query: Float32Array, k: number): VectorHit[] {
    if (query.length !== this.dims) {
      throw new InvalidInputError(`query has ${query.length} dimensions, the index ${this.dims}`);
    }
    const n = Math.min(k, this.count);
    if (n <= 0) return [];
    // usearch ignores a typed array's byteOffset: pass arrays that start at offset 0.
    const data = this.matrix.length === this.count * this.dims ? this.matrix : this.matrix.slice(0, this.count * this.dims);
    const q = query.byteOffset === 0 && query.length === query.buffer.byteLength / 4 ? query : query.slice();
    const res = usearch.exactSearch(data, q, this.dims, n, usearch.MetricKind.IP);
    const hits: VectorHit[] = [];
    for (let i = 0; i < res.keys.length && hits.length < n; i++) {
      const row = Number(res.keys[i]);
      if (row >= this.count) continue;
      // USearch reports inner-product distance as 1 - dot.
      hits.push({ id: this.ids[row], score: 1 - res.distances[i] });
    }
    return hits;
  }
}
