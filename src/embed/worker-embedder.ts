/**
 * An Embedder whose model runs on a worker thread (embed-worker.ts). onnxruntime-node runs a
 * forward pass synchronously on the thread that calls it, so in the server every query's
 * embedding blocked the event loop: requests that arrived meanwhile were not even read, and
 * admission control could only shed them in bursts, after the fact (issue 14's overload
 * phase). Here the main thread keeps the tokenizer, the identity and the metrics, and only the
 * forward passes move. Results are the same vectors: the same session options, the same code.
 */
import { Worker } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';
import type { EmbedReply, EmbedRequest } from './embed-worker.js';
import type { Embedder, EmbedProgress } from './embedder.js';
import type { ModelIdentity } from './identity.js';
import type { ResolvedModel } from './models/index.js';
import { identityOf, observedEmbed, type OnnxEmbedderOptions } from './onnx-embedder.js';
import { ModelTokenizer } from './tokenizer.js';

interface Pending {
  resolve: (v: Float32Array[]) => void;
  reject: (e: Error) => void;
  onProgress?: (p: EmbedProgress) => void;
}

/** The embedding worker stopped (it crashed, or the embedder was closed) with requests pending. */
export class EmbedWorkerError extends Error {
  override readonly name = 'EmbedWorkerError';
}

export class WorkerEmbedder implements Embedder {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: Error | null = null;

  private constructor(
    readonly identity: ModelIdentity,
    readonly tokenizer: ModelTokenizer,
    private readonly worker: Worker,
  ) {
    worker.on('message', (m: EmbedReply) => this.onReply(m));
    worker.on('error', (e) => this.stop(new EmbedWorkerError(`the embedding worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.stop(new EmbedWorkerError(`the embedding worker stopped (exit code ${code})`)));
    worker.unref(); // held only while requests are pending (see call)
  }

  get dims(): number {
    return this.identity.dims;
  }

  static async load(model: ResolvedModel, options: OnnxEmbedderOptions = {}): Promise<WorkerEmbedder> {
    const tokenizer = await ModelTokenizer.load(model.tokenizerPath, model.spec.maxSeqLength);
    const worker = new Worker(new URL('./embed-worker.js', import.meta.url), { workerData: { model, options } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: EmbedReply) => {
        if ('ready' in m) resolve();
        else if ('loadError' in m) reject(Object.assign(new Error(m.loadError.message), { name: m.loadError.name }));
        else return;
        worker.off('message', onMessage);
        worker.off('error', reject);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new WorkerEmbedder(identityOf(model), tokenizer, worker);
  }

  embedQuery(text: string): Promise<Float32Array> {
    return observedEmbed(this.identity, 'query', 1, () => this.call([this.identity.queryPrefix + text])).then(([v]) => v);
  }

  embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) return Promise.reject(new InvalidInputError('embed() takes an array of strings'));
    return observedEmbed(this.identity, 'documents', texts.length, () => this.call(texts, onProgress));
  }

  private call(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const request: EmbedRequest = { id, texts, progress: onProgress !== undefined };
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  private onReply(m: EmbedReply): void {
    if (!('id' in m)) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if ('progress' in m) {
      try {
        p.onProgress?.(m.progress);
      } catch (e) {
        // the caller stops the call from its progress callback (a Ctrl-C between sub-batches),
        // as it can inline: the call fails with its error, the worker skips what is left of it
        this.settle(m.id);
        p.reject(e as Error);
        this.worker.postMessage({ cancel: m.id });
      }
      return;
    }
    this.settle(m.id);
    if ('vectors' in m) p.resolve(m.vectors);
    else p.reject(m.error.code === 'INVALID_INPUT' ? new InvalidInputError(m.error.message) : Object.assign(new Error(m.error.message), { name: m.error.name }));
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(this.stopped);
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stop(new EmbedWorkerError('the embedder was closed'));
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref();
    this.worker.postMessage({ close: true });
    await exited;
  }
}
