import type { Embedder } from '../embed/embedder.js';
import type { ModelIdentity } from '../embed/identity.js';
import { resolveModel } from '../embed/models/index.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from '../embed/onnx-embedder.js';

/** Resolves a model reference to verified files and loads it. */
export async function loadEmbedder(ref: string, modelsDir?: string, options?: OnnxEmbedderOptions): Promise<Embedder> {
  const resolved = await resolveModel(ref, { modelsDir });
  return OnnxEmbedder.load(resolved, options);
}

/** The reference that loads exactly the model a collection was built with. */
export function refOf(identity: ModelIdentity): string {
  return `${identity.id}:${identity.variant}`;
}
