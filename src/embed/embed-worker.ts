/**
 * The worker thread of a WorkerEmbedder (worker-embedder.ts): loads the model with ONNX Runtime
 * and embeds what the main thread sends, one request at a time, so that a forward pass (which
 * onnxruntime-node runs synchronously on the calling thread) never blocks the server's event
 * loop. Messages: in `{ id, texts, progress }`, `{ cancel: id }` or `{ close: true }`; out `{ ready }`,
 * `{ loadError }`, `{ id, progress }`, `{ id, vectors }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ResolvedModel } from './models/index.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';

export interface EmbedRequest {
  id: number;
  texts: string[];
  progress: boolean;
}
export type EmbedReply =
  | { ready: true }
  | { loadError: { name: string; message: string } }
  | { id: number; progress: { done: number; total: number } }
  | { id: number; vectors: Float32Array[] }
  | { id: number; error: { name: string; code?: string; message: string } };

const port = parentPort!;
const send = (m: EmbedReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const { model, options } = workerData as { model: ResolvedModel; options: OnnxEmbedderOptions };

let embedder: OnnxEmbedder;
try {
  embedder = await OnnxEmbedder.load(model, options);
} catch (e) {
  send({ loadError: { name: (e as Error).name, message: (e as Error).message } });
  process.exit(1);
}

/** Requests the caller gave up on: their remaining sub-batches are skipped. */
const cancelled = new Set<number>();
class Cancelled extends Error {}

// one request at a time, in arrival order: a forward pass already uses every core
let chain = Promise.resolve();
port.on('message', (m: EmbedRequest | { cancel: number } | { close: true }) => {
  if ('cancel' in m) {
    cancelled.add(m.cancel);
    return;
  }
  if ('close' in m) {
    chain = chain.then(async () => {
      await embedder.close();
      port.close();
    });
    return;
  }
  chain = chain.then(async () => {
    if (cancelled.delete(m.id)) return;
    try {
      const vectors = await embedder.embedTexts(
        m.texts,
        m.progress
          ? (p) => {
              // messages are read between sub-batches (each forward pass yields to the loop)
              if (cancelled.has(m.id)) throw new Cancelled();
              send({ id: m.id, progress: p });
            }
          : undefined,
      );
      send({ id: m.id, vectors }, vectors.map((v) => v.buffer as ArrayBuffer));
    } catch (e) {
      if (e instanceof Cancelled) return void cancelled.delete(m.id);
      const err = e as Error & { code?: string };
      send({ id: m.id, error: { name: err.name, code: typeof err.code === 'string' ? err.code : undefined, message: err.message } });
    }
  });
});
send({ ready: true });
