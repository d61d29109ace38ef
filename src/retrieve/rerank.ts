/**
 * Tier 2: rescoring the top N candidates with a stronger model. Two kinds, one interface:
 *
 *  - EmbeddingReranker: a second (larger) embedding model, cosine between the query and each
 *    candidate, embedded on the fly. Candidate vectors are cached by content hash, in memory
 *    and, given a Tier2Store (kept by the collection's store) beside the collection, so a passage that comes back for
 *    many queries is embedded once.
 *  - CrossEncoderReranker: a cross-encoder reads (query, passage) together and gives one
 *    logit; the score is its sigmoid (0..1).
 *
 * Which model is a reference like any other (`bge-small-en-v1.5`, `ms-marco-MiniLM-L-6-v2`),
 * resolved and sha256-verified by src/embed/models before it is loaded.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { resolveModel } from '../embed/models/index.js';
import { OnnxEmbedder } from '../embed/onnx-embedder.js';
import { WorkerEmbedder } from '../embed/worker-embedder.js';
import { ModelTokenizer } from '../embed/tokenizer.js';
import type { Tier2Store } from '../store/port.js';

export interface RerankCandidate {
  id: number;
  text: string;
  /** Content hash of `text` (the embedding cache key). */
  hash: string;
}

export interface Reranker {
  /** "<model id>:<variant>" with what kind of tier 2 it is. */
  readonly description: string;
  /** One score per candidate, in order; higher is better. `store` keeps candidate vectors on disk where the kind allows. */
  score(query: string, candidates: readonly RerankCandidate[], store?: Tier2Store | null): Promise<number[]>;
  close(): Promise<void>;
}

export const DEFAULT_RERANK_TOP_N = 50;
/**
 * How much tier 2 decides the pool's order: score = w · minmax(tier 2) + (1 - w) · minmax(first
 * stage), over the pool (1 = tier 2 alone). 0.7 is the middle of the plateau measured on
 * SciFact's train split with bge-small over hybrid (nDCG@10 0.765 at 0.7, 0.767 at 0.6 and 0.8,
 * 0.756 for tier 2 alone, 0.738 without tier 2; `npm run tune:rerank`): the larger model
 * corrects the first stage rather than replacing what BM25 saw.
 */
export const DEFAULT_RERANK_WEIGHT = 0.7;
/** The tier-2 model used when none is named. */
export const DEFAULT_RERANK_MODEL = 'BAAI/bge-small-en-v1.5';
const CACHE_MAX = 50_000;

export class EmbeddingReranker implements Reranker {
  private readonly cache = new Map<string, Float32Array>();
  /** What decides a passage's vector: the model's files and how it pools (never the query prefix). */
  private readonly modelKey: string;

  constructor(
    private readonly embedder: Embedder,
    private readonly owned = false,
  ) {
    const m = embedder.identity;
    this.modelKey = createHash('sha256')
      .update(JSON.stringify([m.id, m.variant, m.weightsSha256, m.tokenizerSha256, m.pooling, m.normalize, m.maxSeqLength]))
      .digest('hex')
      .slice(0, 32);
  }

  get description(): string {
    return `embedding ${describeIdentity(this.embedder.identity)}`;
  }

  /** How many candidate vectors are cached (for tests and metrics). */
  get cached(): number {
    return this.cache.size;
  }

  async score(query: string, candidates: readonly RerankCandidate[], store?: Tier2Store | null): Promise<number[]> {
    const seen = new Set<string>();
    let missing = candidates.filter((c) => !this.cache.has(c.hash) && !seen.has(c.hash) && seen.add(c.hash));
    if (store && missing.length > 0) {
      const stored = store.get(this.modelKey, missing.map((c) => c.hash));
      for (const [h, v] of stored) if (v.length === this.embedder.identity.dims) this.remember(h, v);
      missing = missing.filter((c) => !this.cache.has(c.hash));
    }
    const q = await this.embedder.embedQuery(query);
    const fresh = missing.length > 0 ? await this.embedder.embed(missing.map((c) => c.text)) : [];
    missing.forEach((c, i) => this.remember(c.hash, fresh[i]));
    store?.put(this.modelKey, missing.map((c, i) => [c.hash, fresh[i]] as const));
    return candidates.map((c) => {
      const v = this.cache.get(c.hash)!;
      let s = 0;
      for (let j = 0; j < v.length; j++) s += q[j] * v[j];
      return s;
    });
  }

  private remember(hash: string, v: Float32Array): void {
    // insertion-ordered Map: evict the oldest when full
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hash, v);
  }

  async close(): Promise<void> {
    if (this.owned) await this.embedder.close();
  }
}

export class CrossEncoderReranker implements Reranker {
  private constructor(
    readonly description: string,
    private readonly tokenizer: ModelTokenizer,
    private readonly session: ort.InferenceSession,
    private readonly batchSize: number,
  ) {}

  static async load(ref: string, modelsDir?: string): Promise<CrossEncoderReranker> {
    const model = await resolveModel(ref, { modelsDir });
    const tokenizer = await ModelTokenizer.load(model.tokenizerPath, model.spec.maxSeqLength);
    const session = await ort.InferenceSession.create(model.weightsPath, {
      intraOpNumThreads: availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new CrossEncoderReranker(`cross-encoder ${model.spec.id}:${model.variant}`, tokenizer, session, 16);
  }

  async score(query: string, candidates: readonly RerankCandidate[]): Promise<number[]> {
    const out: number[] = [];
    for (let start = 0; start < candidates.length; start += this.batchSize) {
      const batch = candidates.slice(start, start + this.batchSize).map((c) => this.tokenizer.encodeForModel(query, c.text));
      const len = Math.max(...batch.map((e) => e.ids.length));
      const n = batch.length;
      const ids = new BigInt64Array(n * len);
      const mask = new BigInt64Array(n * len);
      const types = new BigInt64Array(n * len);
      batch.forEach((e, b) => {
        e.ids.forEach((id, t) => {
          ids[b * len + t] = BigInt(id);
          mask[b * len + t] = 1n;
          types[b * len + t] = BigInt(e.typeIds[t] ?? 0);
        });
      });
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of this.session.inputNames) {
        const data = name === 'input_ids' ? ids : name === 'attention_mask' ? mask : name === 'token_type_ids' ? types : null;
        if (data === null) throw new Error(`cross-encoder input "${name}" is not one quarry knows how to feed`);
        feeds[name] = new ort.Tensor('int64', data, [n, len]);
      }
      const result = await this.session.run(feeds);
      const logits = result[this.session.outputNames[0]].data as Float32Array;
      // one logit per pair ([n, 1]); the sigmoid maps it to 0..1
      for (let b = 0; b < n; b++) out.push(1 / (1 + Math.exp(-logits[b])));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Loads the tier-2 model named by `ref`: a cross-encoder or an embedding model, by its manifest
 * kind. `offThread` (a server) runs an embedding model on a worker thread, as the query model
 * is (worker-embedder.ts); the cross-encoder still runs inline.
 */
export async function loadReranker(ref: string = DEFAULT_RERANK_MODEL, modelsDir?: string, opts: { offThread?: boolean } = {}): Promise<Reranker> {
  const model = await resolveModel(ref, { modelsDir });
  if (model.spec.kind === 'cross-encoder') return CrossEncoderReranker.load(ref, modelsDir);
  return new EmbeddingReranker(opts.offThread ? await WorkerEmbedder.load(model) : await OnnxEmbedder.load(model), true);
}
