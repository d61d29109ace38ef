import type { Embedder } from '../embed/embedder.js';
import type { ModelIdentity } from '../embed/identity.js';
import { resolveModel } from '../embed/models/index.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from '../embed/onnx-embedder.js';
import { WorkerEmbedder } from '../embed/worker-embedder.js';

/**
 * Resolves a model reference to verified files and loads it. `offThread` runs the model on a
 * worker thread (a server: the event loop stays free while a query embeds); a one-shot command
 * runs it inline.
 */
export async function loadEmbedder(ref: string, modelsDir?: string, options?: OnnxEmbedderOptions & { offThread?: boolean }): Promise<Embedder> {
  const resolved = await resolveModel(ref, { modelsDir });
  const { offThread, ...onnx } = options ?? {};
  return offThread ? WorkerEmbedder.load(resolved, onnx) : OnnxEmbedder.load(resolved, onnx);
}

/** The reference that loads exactly the model a collection was built with. */
export function refOf(identity: ModelIdentity): string {
  return `${identity.id}:${identity.variant}`;
}
