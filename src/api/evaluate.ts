/**
 * `quarry eval`: retrieval quality on a BEIR-format dataset, every mode on the same
 * collection and queries, with nDCG@k, Recall@100, MRR@k and P@k per mode and latency per
 * query and per stage. The corpus is ingested into a collection of its own (re-running only
 * embeds what changed: the store's embedding cache makes unchanged passages free).
 */
import { LocalReader } from '../store/local/local-reader.js';
import { basename, resolve } from 'node:path';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { assertSameModel } from '../embed/trust.js';
import { InvalidInputError } from '../errors.js';
import { loadBeirDataset } from '../eval/beir.js';
import { CHUNK_DEPTH, DOC_DEPTH, judgeMode, type EvalModeResult } from '../eval/judge.js';
import { BM25_DEFAULTS, type Bm25Params } from '../lexical/bm25-index.js';
import { DEFAULT_RRF_K, fusionOf, type FusionMethod } from '../retrieve/fusion.js';
import { DEFAULT_RERANK_TOP_N, DEFAULT_RERANK_WEIGHT, loadReranker, type Reranker } from '../retrieve/rerank.js';
import { SearchSession, SEARCH_MODES, type SearchMode } from '../retrieve/session.js';
import { collectionExists, Collection } from '../store/collection.js';
import { indexPaths, type IndexProgress } from './index-paths.js';
import { loadEmbedder, refOf } from './load-model.js';
import { dataDirOf, DEFAULT_MODEL, type CollectionOptions } from './options.js';

export interface EvalOptions extends Omit<CollectionOptions, 'collection'> {
  /** BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv. */
  dataset: string;
  split?: string;
  /** e.g. ['bm25', 'vector', 'hybrid', 'hybrid+rerank'] (default: the first three). */
  modes?: string[];
  /** Cut-off of nDCG, MRR and P (default 10); recall is always @100. */
  k?: number;
  /** Collection to ingest into and search (default beir-<folder name>). */
  collection?: string;
  /** Embedding model for a new collection (default all-MiniLM-L6-v2). */
  model?: string;
  /** BEIR's ignore_identical_ids: drop results whose id is the query's id. */
  ignoreIdenticalIds?: boolean;
  /** Evaluate only the first N judged queries (quick runs). */
  limitQueries?: number;
  weights?: Record<string, number>;
  rrfK?: number;
  fusion?: FusionMethod;
  bm25?: Bm25Params;
  rerankModel?: string;
  rerankTopN?: number;
  /** Share of tier 2 in the pool's order, 0..1 (default 0.7; 1 = tier 2 alone). */
  rerankWeight?: number;
  embedder?: Embedder;
  reranker?: Reranker;
  onProgress?: (p: { stage: 'ingest'; progress: IndexProgress } | { stage: 'queries'; mode: string; done: number; total: number }) => void;
}

export type { EvalModeResult } from '../eval/judge.js';

export interface EvalReport {
  dataset: string;
  split: string;
  queries: number;
  collection: string;
  model: string;
  documents: number;
  chunks: number;
  reranker?: string;
  settings: Record<string, unknown>;
  modes: EvalModeResult[];
}

export function parseMode(spec: string): { mode: SearchMode; rerank: boolean } {
  const [mode, extra, ...rest] = spec.trim().split('+');
  if (!SEARCH_MODES.includes(mode as SearchMode) || rest.length > 0 || (extra !== undefined && extra !== 'rerank')) {
    throw new InvalidInputError(`unknown eval mode "${spec}" (use ${SEARCH_MODES.join(', ')}, each optionally +rerank)`, { field: 'modes' });
  }
  return { mode: mode as SearchMode, rerank: extra === 'rerank' };
}

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const k = opts.k ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > DOC_DEPTH) throw new InvalidInputError(`k must be an integer from 1 to ${DOC_DEPTH}`, { field: 'k' });
  const specs = (opts.modes ?? ['bm25', 'vector', 'hybrid']).map((m) => ({ spec: m.trim(), ...parseMode(m) }));
  if (specs.length === 0) throw new InvalidInputError('no modes to evaluate', { field: 'modes' });
  const fusion = fusionOf(opts.fusion, opts.rrfK); // refused here, before any ingest, when inconsistent
  const dir = resolve(opts.dataset);
  const ds = await loadBeirDataset(dir, opts.split ?? 'test');
  const queries = opts.limitQueries ? ds.queries.slice(0, opts.limitQueries) : ds.queries;
  const collection = opts.collection ?? `beir-${basename(dir).replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const dataDir = dataDirOf(opts);

  // Ingest (or catch up): only new or changed passages are embedded.
  const existed = collectionExists(dataDir, collection);
  await indexPaths([ds.corpusPath], {
    dataDir,
    collection,
    modelsDir: opts.modelsDir,
    model: existed ? opts.model : (opts.model ?? DEFAULT_MODEL),
    embedder: opts.embedder,
    onProgress: (p) => opts.onProgress?.({ stage: 'ingest', progress: p }),
  });

  const c = await Collection.open(dataDir, collection, 'read');
  let embedder: Embedder | undefined;
  let reranker: Reranker | undefined;
  let session: SearchSession | undefined;
  try {
    const stored = c.manifest.model;
    if (specs.some((s) => s.mode !== 'bm25')) {
      embedder = opts.embedder ?? (await loadEmbedder(refOf(stored), opts.modelsDir));
      assertSameModel(collection, stored, embedder.identity);
    }
    if (specs.some((s) => s.rerank)) reranker = opts.reranker ?? (await loadReranker(opts.rerankModel, opts.modelsDir));
    session = new SearchSession(LocalReader.wrap(c), embedder ?? null, reranker ?? null);
    await session.warm(specs.map((s) => s.mode));
    const docOf = c.db.liveChunkDocIds();
    const counts = c.db.counts();
    const modes: EvalModeResult[] = [];
    for (const s of specs) {
      modes.push(
        await judgeMode(session, docOf, queries, ds.qrels, s, {
          k,
          ignoreIdenticalIds: opts.ignoreIdenticalIds,
          retrieve: {
            rerankTopN: opts.rerankTopN,
            rerankWeight: opts.rerankWeight,
            weights: opts.weights,
            rrfK: opts.rrfK,
            fusion: opts.fusion,
            bm25: opts.bm25,
          },
          onQuery: (done, total) => opts.onProgress?.({ stage: 'queries', mode: s.spec, done, total }),
        }),
      );
    }
    return {
      dataset: dir,
      split: ds.split,
      queries: queries.length,
      collection,
      model: describeIdentity(stored),
      documents: counts.documents,
      chunks: counts.chunks,
      ...(reranker ? { reranker: reranker.description } : {}),
      settings: {
        k,
        chunkDepth: CHUNK_DEPTH,
        ignoreIdenticalIds: opts.ignoreIdenticalIds ?? false,
        weights: opts.weights ?? { vector: 1, bm25: 1 },
        fusion,
        ...(fusion === 'rrf' ? { rrfK: opts.rrfK ?? DEFAULT_RRF_K } : {}),
        bm25: { k1: opts.bm25?.k1 ?? BM25_DEFAULTS.k1, b: opts.bm25?.b ?? BM25_DEFAULTS.b },
        ...(reranker ? { rerankTopN: opts.rerankTopN ?? DEFAULT_RERANK_TOP_N, rerankWeight: opts.rerankWeight ?? DEFAULT_RERANK_WEIGHT } : {}),
      },
      modes,
    };
  } finally {
    session?.close();
    if (embedder && !opts.embedder) await embedder.close();
    if (reranker && !opts.reranker) await reranker.close();
    await c.close();
  }
}
