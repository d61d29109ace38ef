import { loadEmbedder } from '../../src/api/load-model.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { resolveModel } from '../../src/embed/models/index.js';
import { ModelTokenizer } from '../../src/embed/tokenizer.js';
import { modelsDir } from './env.js';

export const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';

const embedders = new Map<string, Promise<Embedder>>();

/** One loaded embedder per model reference, shared by the tests of a file. */
export function sharedEmbedder(ref: string = MINILM): Promise<Embedder> {
  let e = embedders.get(ref);
  if (!e) {
    e = loadEmbedder(ref, modelsDir());
    embedders.set(ref, e);
  }
  return e;
}

export async function closeEmbedders(): Promise<void> {
  for (const e of embedders.values()) await (await e).close();
  embedders.clear();
}

export async function minilmTokenizer(): Promise<ModelTokenizer> {
  const m = await resolveModel(MINILM, { modelsDir: modelsDir() });
  return ModelTokenizer.load(m.tokenizerPath, m.spec.maxSeqLength);
}
