import { createHash } from 'node:crypto';
import type { Embedder, EmbedProgress } from '../../src/embed/embedder.js';
import type { ModelIdentity } from '../../src/embed/identity.js';
import { l2NormalizeInPlace } from '../../src/embed/pooling.js';
import type { ModelTokenizer } from '../../src/embed/tokenizer.js';
import { minilmTokenizer } from './model.js';

/**
 * A fast, deterministic stand-in embedder for store tests (crash safety, versions): vectors
 * are hashes of the text, so equal texts give equal vectors; the real tokenizer does the
 * chunking. It has its own identity, so it can never be mistaken for a real model.
 */
export class HashEmbedder implements Embedder {
  readonly identity: ModelIdentity;
  calls = 0;
  embedded = 0;

  /** `id`: another stand-in "model" (its vectors differ from the default one's: the id salts the hash). */
  constructor(
    readonly tokenizer: ModelTokenizer,
    readonly dims = 16,
    readonly id = 'test/hash-embedder',
  ) {
    this.identity = {
      id,
      variant: 'fp32',
      revision: 'test',
      source: 'test',
      weightsSha256: '0'.repeat(64),
      tokenizerSha256: '1'.repeat(64),
      dims,
      pooling: 'mean',
      normalize: true,
      maxSeqLength: tokenizer.maxSeqLength,
      queryPrefix: '',
    };
  }

  static async create(dims = 16, id?: string): Promise<HashEmbedder> {
    return new HashEmbedder(await minilmTokenizer(), dims, id);
  }

  async embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    this.calls++;
    this.embedded += texts.length;
    const out = texts.map((t) => {
      const h = createHash('sha256').update(this.id === 'test/hash-embedder' ? t : `${this.id}\0${t}`).digest();
      const v = new Float32Array(this.dims);
      for (let j = 0; j < this.dims; j++) v[j] = (h[j % h.length] - 127.5) / 127.5 + (j === 0 ? 0.01 : 0);
      return l2NormalizeInPlace(v);
    });
    onProgress?.({ done: texts.length, total: texts.length });
    return out;
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return (await this.embed([text]))[0];
  }

  async close(): Promise<void> {}
}
