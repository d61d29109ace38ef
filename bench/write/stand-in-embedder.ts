import { createHash } from 'node:crypto';
import type { Embedder, EmbedProgress } from '../../src/embed/embedder.js';
import type { ModelIdentity } from '../../src/embed/identity.js';
import { l2NormalizeInPlace } from '../../src/embed/pooling.js';
import type { ModelTokenizer } from '../../src/embed/tokenizer.js';
import { prng } from '../support.js';

const BUCKETS = 4096;

/**
 * A fast stand-in for the embedder, so the write benchmark times the store and not the model:
 * feature hashing of the lower-cased words into 4096 signed buckets, projected by a fixed
 * random matrix to `dims` and normalized. Texts sharing words get nearby vectors, so an HNSW
 * graph over them has the neighbourhood structure of real embeddings (pure random vectors are
 * the worst case for a graph). It carries its own identity and can never pass for a model.
 * `ms` counts the time spent embedding (subtracted from the upsert's time).
 */
export class StandInEmbedder implements Embedder {
  readonly identity: ModelIdentity;
  ms = 0;
  private readonly basis: Float32Array;

  constructor(
    readonly tokenizer: ModelTokenizer,
    readonly dims = 384,
  ) {
    this.identity = {
      id: 'bench/feature-hash',
      variant: 'fp32',
      revision: 'bench',
      source: 'bench',
      weightsSha256: '0'.repeat(64),
      tokenizerSha256: '1'.repeat(64),
      dims,
      pooling: 'mean',
      normalize: true,
      maxSeqLength: tokenizer.maxSeqLength,
      queryPrefix: '',
    };
    const rand = prng(15);
    this.basis = Float32Array.from({ length: BUCKETS * dims }, () => rand() * 2 - 1);
  }

  vector(text: string): Float32Array {
    const v = new Float32Array(this.dims);
    for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const h = createHash('md5').update(w).digest();
      const bucket = h.readUInt32LE(0) % BUCKETS;
      const sign = h[4] & 1 ? 1 : -1;
      const row = bucket * this.dims;
      for (let j = 0; j < this.dims; j++) v[j] += sign * this.basis[row + j];
    }
    v[0] += 1e-3; // never the zero vector (an empty text)
    return l2NormalizeInPlace(v);
  }

  async embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    const t0 = performance.now();
    const out = texts.map((t) => this.vector(t));
    this.ms += performance.now() - t0;
    onProgress?.({ done: texts.length, total: texts.length });
    return out;
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return (await this.embed([text]))[0];
  }

  async close(): Promise<void> {}
}
