import type { ModelIdentity } from './identity.js';
import type { ModelTokenizer } from './tokenizer.js';

export interface EmbedProgress {
  done: number;
  total: number;
}

/** Turns text into unit vectors in one model's space. */
export interface Embedder {
  readonly identity: ModelIdentity;
  readonly dims: number;
  readonly tokenizer: ModelTokenizer;
  /** Document-side embeddings, L2-normalized, in input order. */
  embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]>;
  /** Query-side embedding (the model's query instruction applied, if it has one). */
  embedQuery(text: string): Promise<Float32Array>;
  close(): Promise<void>;
}
