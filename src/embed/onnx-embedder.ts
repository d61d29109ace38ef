import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { InvalidInputError } from '../errors.js';
import { recordEmbed, type EmbedKind } from '../observe/metrics.js';
import { withSpan } from '../observe/tracing.js';
import { planBatches } from './batching.js';
import type { Embedder, EmbedProgress } from './embedder.js';
import type { ModelIdentity } from './identity.js';
import type { ResolvedModel } from './models/index.js';
import { l2NormalizeInPlace, poolInto } from './pooling.js';
import { ModelTokenizer } from './tokenizer.js';

/** Query instructions a model was trained with; part of its identity. */
const QUERY_PREFIXES: Record<string, string> = {
  'BAAI/bge-small-en-v1.5': 'Represent this sentence for searching relevant passages: ',
};

export interface OnnxEmbedderOptions {
  /** Activation memory one forward pass may use (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** At most this many texts per forward pass (default 64). */
  maxBatchSize?: number;
  /** ONNX Runtime intra-op threads (default: all cores). */
  threads?: number;
}

/** What a loaded model is, as collections record it. */
export function identityOf(model: ResolvedModel): ModelIdentity {
  return {
    id: model.spec.id,
    variant: model.variant,
    revision: model.revision,
    source: model.source,
    weightsSha256: model.weightsSha256,
    tokenizerSha256: model.tokenizerSha256,
    dims: model.spec.dims,
    pooling: model.spec.pooling,
    normalize: model.spec.normalize,
    maxSeqLength: model.spec.maxSeqLength,
    queryPrefix: QUERY_PREFIXES[model.spec.id] ?? '',
  };
}

/**
 * One embedding call, traced (`quarry.embed`) and timed (quarry_embed_duration_seconds), on the
 * thread whose metrics are served (a worker's would be lost).
 */
export function observedEmbed(identity: ModelIdentity, kind: EmbedKind, texts: number, run: () => Promise<Float32Array[]>): Promise<Float32Array[]> {
  const model = `${identity.id}:${identity.variant}`;
  return withSpan('quarry.embed', { 'quarry.model': model, 'quarry.embed.kind': kind, 'quarry.embed.texts': texts }, async () => {
    const t0 = performance.now();
    const out = await run();
    recordEmbed(model, kind, (performance.now() - t0) / 1000, texts);
    return out;
  });
}

/** Sentence embeddings with ONNX Runtime (CPU) and the model's own tokenizer. */
export class OnnxEmbedder implements Embedder {
  private constructor(
    readonly identity: ModelIdentity,
    readonly tokenizer: ModelTokenizer,
    private readonly session: ort.InferenceSession,
    private readonly hiddenSize: number,
    private readonly numHeads: number,
    private readonly opts: Required<Omit<OnnxEmbedderOptions, 'threads'>>,
  ) {}

  get dims(): number {
    return this.identity.dims;
  }

  static async load(model: ResolvedModel, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const config = JSON.parse(await readFile(join(model.dir, 'config.json'), 'utf8')) as {
      hidden_size?: number;
      num_attention_heads?: number;
    };
    const hiddenSize = config.hidden_size ?? model.spec.dims;
    const numHeads = config.num_attention_heads ?? 12;
    const tokenizer = await ModelTokenizer.load(model.tokenizerPath, model.spec.maxSeqLength);
    const session = await ort.InferenceSession.create(model.weightsPath, {
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const identity = identityOf(model);
    return new OnnxEmbedder(identity, tokenizer, session, hiddenSize, numHeads, {
      memoryBudgetBytes: options.memoryBudgetBytes ?? 256 * 1024 * 1024,
      maxBatchSize: options.maxBatchSize ?? 64,
    });
  }

  async embedQuery(text: string): Promise<Float32Array> {
    const [v] = await this.observed('query', [this.identity.queryPrefix + text]);
    return v;
  }

  async embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) throw new InvalidInputError('embed() takes an array of strings');
    return this.observed('documents', texts, onProgress);
  }

  private observed(kind: EmbedKind, texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    return observedEmbed(this.identity, kind, texts.length, () => this.embedTexts(texts, onProgress));
  }

  /** The vectors of `texts` as they are (no query instruction added), untraced: the worker's entry. */
  async embedTexts(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    const encoded = texts.map((t) => this.tokenizer.encodeForModel(t).ids);
    const batches = planBatches(
      encoded.map((ids) => ids.length),
      {
        memoryBudgetBytes: this.opts.memoryBudgetBytes,
        maxBatchSize: this.opts.maxBatchSize,
        hiddenSize: this.hiddenSize,
        numHeads: this.numHeads,
      },
    );
    const out: Float32Array[] = new Array(texts.length);
    let done = 0;
    for (const batch of batches) {
      const vectors = await this.runBatch(batch.map((i) => encoded[i]));
      batch.forEach((i, k) => (out[i] = vectors[k]));
      done += batch.length;
      onProgress?.({ done, total: texts.length });
    }
    return out;
  }

  private async runBatch(seqs: number[][]): Promise<Float32Array[]> {
    const batch = seqs.length;
    const seqLen = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(batch * seqLen);
    const mask = new BigInt64Array(batch * seqLen);
    for (let b = 0; b < batch; b++) {
      const s = seqs[b];
      for (let t = 0; t < s.length; t++) {
        ids[b * seqLen + t] = BigInt(s[t]);
        mask[b * seqLen + t] = 1n;
      }
    }
    const dims = [batch, seqLen];
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, dims);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, dims);
      else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch * seqLen), dims);
      else throw new InvalidInputError(`model input "${name}" is not one quarry knows how to feed`);
    }
    const result = await this.session.run(feeds);
    const hidden = result[this.session.outputNames[0]];
    const data = hidden.data as Float32Array;
    const hiddenDims = hidden.dims[2];
    const vectors: Float32Array[] = [];
    for (let b = 0; b < batch; b++) {
      const v = new Float32Array(hiddenDims);
      poolInto(data, seqLen, hiddenDims, b, seqs[b].length, this.identity.pooling, v);
      vectors.push(this.identity.normalize ? l2NormalizeInPlace(v) : v);
    }
    for (const t of Object.values(result)) t.dispose?.();
    return vectors;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
