import type { FromSchema } from 'json-schema-to-ts';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { assertSameModel, checkRequestedModel } from '../embed/trust.js';
import { InvalidInputError } from '../errors.js';
import type { SearchParams } from '../index/vector-index.js';
import type { Bm25Params } from '../lexical/bm25-index.js';
import { parseFilter, type Filter, type FilterNode } from '../retrieve/filter/tree.js';
import { Highlighter } from '../retrieve/highlight.js';
import { parseWeights, type FusionMethod } from '../retrieve/fusion.js';
import { DEFAULT_RERANK_TOP_N, loadReranker, type Reranker } from '../retrieve/rerank.js';
import { DEFAULT_PASSAGES, groupByDocument } from '../retrieve/group.js';
import { DEFAULT_MODE, DEFAULT_WINDOW, SearchSession, type RetrievedHit, type RetrieveOptions, type SearchMode, type Stage } from '../retrieve/session.js';
import { openStore } from '../store/open-store.js';
import type { ChunkRecord, CollectionReader } from '../store/port.js';
import { loadEmbedder, refOf } from './load-model.js';
import type { searchResult } from '../server/schemas.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface SearchOptions extends CollectionOptions {
  /** hybrid (default), vector or bm25; see src/retrieve/session.ts. */
  mode?: SearchMode;
  /** How many results at most (default 10): the page size. */
  k?: number;
  /** Results to skip, for pagination (default 0). */
  offset?: number;
  /**
   * Drop chunks whose cosine similarity to the query is below this, in every mode alike (with
   * rerank: whose tier-2 score is); may leave none. Refused in bm25 mode without rerank, which
   * computes no cosine. A document passes when its best chunk does.
   */
  minScore?: number;
  /**
   * true: one result per chunk, as ranked (a document may fill several ranks). Default false:
   * one result per document, at the rank of its best chunk, with its other matching chunks
   * under `passages`; k and offset then count documents.
   */
  chunks?: boolean;
  /** Model reference; must be the collection's own model (default: it is). */
  model?: string;
  /** A loaded embedder to reuse (its identity is still checked). */
  embedder?: Embedder;
  /** Metadata filter (see src/retrieve/filter.ts), as an object or JSON text. */
  filter?: Filter | string;
  /** Per-query index knobs: nprobe (ivf, ivfpq), efSearch (hnsw), refine (ivfpq). */
  params?: SearchParams;
  /** Hybrid: retriever weights, as an object or "vector=1,bm25=0.5". */
  weights?: Record<string, number> | string;
  /** Hybrid: RRF's k (default 60). */
  rrfK?: number;
  /** Hybrid: 'convex' (min-max normalized weighted sum, the default) or 'rrf'. */
  fusion?: FusionMethod;
  /** Hybrid: candidates per retriever before fusing (default 100, at least offset + k). */
  window?: number;
  /** BM25 k1 / b (defaults 0.9 / 0.4). */
  bm25?: Bm25Params;
  /** Rescore the top N with a tier-2 model (default off). */
  rerank?: boolean;
  /** The tier-2 model (default bge-small-en-v1.5; a cross-encoder by its manifest kind). */
  rerankModel?: string;
  /** A loaded tier-2 model to reuse. */
  reranker?: Reranker;
  /** Candidates tier 2 rescores (default 50). */
  rerankTopN?: number;
  /** Share of tier 2 in the pool's order, 0..1 (default 0.7; 1 = tier 2 alone). */
  rerankWeight?: number;
  /** Add each result's `highlights`: where the query's terms occur in its text (BM25's analyzer). */
  highlight?: boolean;
  /** false: keep this search out of the search metrics and traces (canary and evaluation queries). */
  observe?: boolean;
}

/**
 * One result: a document (the default) shown by its best chunk, or with `chunks: true` one
 * chunk. The chunk fields (chunkId, text, span, scores) are the best chunk's. Its one
 * definition is the wire schema (src/server/schemas.ts, what /openapi.json documents), so
 * the library, quarry/client and the web page cannot disagree on a field.
 */
export type SearchResult = FromSchema<typeof searchResult>;
/** Another matching chunk of a result's document, under `passages`. */
export type Passage = NonNullable<SearchResult['passages']>[number];

export interface SearchResponse {
  query: string;
  collection: string;
  model: string;
  mode: SearchMode;
  /** What a result is: a document (the default) or a chunk (`chunks: true`). */
  unit: 'document' | 'chunk';
  /** The tier-2 model, when rerank ran. */
  reranker?: string;
  /** True when the query was longer than the model reads and was cut. */
  queryTruncated: boolean;
  results: SearchResult[];
  /** Milliseconds per stage (embed, ann, bm25, fuse, rerank) that ran. */
  stagesMs: Partial<Record<Stage, number>>;
  tookMs: number;
}

export const MAX_QUERY_CHARS = 16_384;
export const MAX_K = 1000;

/**
 * What leaves nothing to search for: white space, control and format characters (zero-width
 * space, joiners, the BOM), lone surrogates, and the other code points Unicode says to ignore
 * when rendering. A query of only these is empty, like a query of spaces (issue 14).
 */
const NOTHING_TO_SEARCH = /[\s\p{Cc}\p{Cf}\p{Cs}\p{Z}\p{Default_Ignorable_Code_Point}]/gu;

export function validateSearchInput(query: unknown, k: unknown, minScore: unknown): { query: string; k: number; minScore?: number } {
  if (typeof query !== 'string') throw new InvalidInputError('query must be a string', { field: 'query' });
  const q = query.trim();
  if (q.length === 0) throw new InvalidInputError('query is empty', { field: 'query' });
  if (q.replace(NOTHING_TO_SEARCH, '').length === 0) {
    throw new InvalidInputError('query is empty: it holds only invisible, control or space characters', { field: 'query' });
  }
  if (q.length > MAX_QUERY_CHARS) {
    throw new InvalidInputError(`query is ${q.length} characters; the limit is ${MAX_QUERY_CHARS}`, { field: 'query' });
  }
  const kk = k ?? 10;
  if (typeof kk !== 'number' || !Number.isInteger(kk) || kk < 1 || kk > MAX_K) {
    throw new InvalidInputError(`k must be an integer from 1 to ${MAX_K}, got ${String(k)}`, { field: 'k' });
  }
  if (minScore !== undefined && (typeof minScore !== 'number' || !Number.isFinite(minScore))) {
    throw new InvalidInputError(`min score must be a finite number, got ${String(minScore)}`, { field: 'minScore' });
  }
  return { query: q, k: kk, minScore: minScore as number | undefined };
}

/**
 * Search: hybrid (the default: both retrievers, fused), vector (the collection's own model
 * embeds the query; any other model is refused) or bm25, optionally reranked by a tier-2
 * model, then the cosine cutoff, which may leave nothing: an empty list, never a padded
 * top-k. Results are documents at the rank of their best chunk (the grouping evaluation
 * uses), or chunks with `chunks: true`.
 */
export async function search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
  const started = performance.now();
  // bad input fails before a collection is opened or a model loaded
  validateSearchInput(query, opts.k, opts.minScore);
  const filterTree = opts.filter === undefined ? undefined : parseFilter(opts.filter);
  if (typeof opts.weights === 'string') parseWeights(opts.weights);
  const mode = opts.mode ?? DEFAULT_MODE;
  const name = collectionOf(opts);
  const store = openStore(dataDirOf(opts));
  // the model is checked against the manifest before any data is opened: a refused search touches nothing
  const stored = (await store.manifest(name)).model;
  const ref = opts.model ?? refOf(stored);
  if (opts.model !== undefined) checkRequestedModel(name, stored, ref);
  let embedder: Embedder | undefined;
  let reranker: Reranker | undefined;
  let session: SearchSession | undefined;
  let reader: CollectionReader | undefined;
  try {
    if (mode !== 'bm25') {
      embedder = opts.embedder ?? (await loadEmbedder(ref, opts.modelsDir));
      assertSameModel(name, stored, embedder.identity);
    }
    if (opts.rerank) reranker = opts.reranker ?? (await loadReranker(opts.rerankModel, opts.modelsDir));
    reader = await store.openReader(name);
    assertSameModel(name, reader.manifest.model, stored);
    session = new SearchSession(reader, embedder ?? null, reranker ?? null);
    return await searchSession({ session, embedder: embedder ?? null, reranker: reranker ?? null }, query, opts, started, filterTree);
  } finally {
    session?.close();
    if (embedder && !opts.embedder) await embedder.close();
    if (reranker && !opts.reranker) await reranker.close();
    await reader?.close();
  }
}

/** An open collection's search session (its reader pinned to one version) and models, checked by whoever opened them. */
export interface SearchContext {
  session: SearchSession;
  /** The collection's own model (identity checked); null allows bm25 only. */
  embedder: Embedder | null;
  /** The tier-2 model `session` was made with, when rerank may be asked for. */
  reranker: Reranker | null;
}

/**
 * One search in an open session: the core call behind `search()` and the HTTP server's warm
 * sessions, so both answer the same object. A collection pinned to a version (the server)
 * filters metadata against that version's live set too.
 */
export async function searchSession(ctx: SearchContext, query: string, opts: Omit<SearchOptions, keyof CollectionOptions | 'model' | 'embedder' | 'reranker' | 'rerankModel'>, started = performance.now(), parsed?: FilterNode): Promise<SearchResponse> {
  const input = validateSearchInput(query, opts.k, opts.minScore);
  const mode = opts.mode ?? DEFAULT_MODE;
  // parsed once per search (search() hands its tree in), compiled once by the store that runs it
  const tree = parsed ?? (opts.filter === undefined ? undefined : parseFilter(opts.filter));
  const { session, embedder, reranker } = ctx;
  const reader: CollectionReader = session.reader;
  const filter = tree === undefined ? undefined : reader.prepareFilter(tree);
  const weights = typeof opts.weights === 'string' ? parseWeights(opts.weights) : opts.weights;
  const stored = reader.manifest.model;
  let queryTruncated = false;
  if (mode !== 'bm25' && embedder) queryTruncated = embedder.tokenizer.encodeForModel(embedder.identity.queryPrefix + input.query).truncated;
  const offset = opts.offset ?? 0;
  const retrieve = (k: number, off: number, wholePage = true, more: Pick<RetrieveOptions, 'countResults' | 'observe' | 'pageSize'> = {}) =>
    session.retrieve(input.query, {
      mode,
      k,
      offset: off,
      minScore: input.minScore,
      filter,
      params: opts.params,
      bm25: opts.bm25,
      fusion: opts.fusion,
      rrfK: opts.rrfK,
      weights,
      window: opts.window,
      rerank: opts.rerank,
      // a document page's pool: rerankTopN chunks, or as many as documents are wanted if more
      rerankTopN: wholePage ? opts.rerankTopN : Math.max(opts.rerankTopN ?? DEFAULT_RERANK_TOP_N, offset + input.k),
      rerankWholePage: wholePage,
      rerankWeight: opts.rerankWeight,
      observe: opts.observe,
      ...more,
    });
  const highlighter = opts.highlight ? new Highlighter(input.query) : null;
  let results: SearchResult[];
  let timings: Partial<Record<Stage, number>>;
  if (opts.chunks) {
    const got = await retrieve(input.k, offset);
    timings = got.timings;
    const rows = new Map((await reader.chunks(got.hits.map((h) => h.id))).map((r) => [r.id, r]));
    results = [];
    for (const h of got.hits) {
      const r = rows.get(h.id);
      if (r) results.push(resultOf(offset + results.length + 1, h, r, highlighter));
    }
  } else {
    const got = await documentPage((k, more) => retrieve(k, 0, false, more), reader, offset, input.k);
    timings = got.timings;
    const groups = groupByDocument(got.hits, (h) => got.rows.get(h.id)?.docId, { limit: offset + input.k, passages: DEFAULT_PASSAGES }).slice(offset);
    results = groups.map((g, i) => ({
      ...resultOf(offset + i + 1, g.best, got.rows.get(g.best.id)!, highlighter),
      passages: g.passages.map((h) => passageOf(h, got.rows.get(h.id)!, highlighter)),
    }));
  }
  const stagesMs: Partial<Record<Stage, number>> = {};
  for (const [stage, ms] of Object.entries(timings)) stagesMs[stage as Stage] = Math.round(ms * 100) / 100;
  return {
    query: input.query,
    collection: reader.name,
    model: describeIdentity(stored),
    mode,
    unit: opts.chunks ? 'chunk' : 'document',
    ...(opts.rerank && reranker ? { reranker: reranker.description } : {}),
    queryTruncated,
    results,
    stagesMs,
    tookMs: Math.round((performance.now() - started) * 10) / 10,
  };
}

/** Chunks asked for per document wanted, at least: most documents have a few matching chunks. */
const CHUNKS_PER_DOCUMENT = 4;
/** Chunks asked for at least: hybrid's window holds this many per retriever anyway, so it costs little. */
const MIN_DOCUMENT_DEPTH = DEFAULT_WINDOW;
/** The most chunks one document page reads, however few documents they hold. */
const MAX_DOCUMENT_DEPTH = 4000;

/**
 * The ranked chunks that hold documents offset+1 .. offset+k: asks for
 * max(100, 4 per document wanted) chunks and, in the rare case that they fill the request
 * but hold too few documents (one long document matching everywhere), four times as many.
 * Hybrid's windows (100 per retriever) are unchanged while the request stays under them,
 * and tier 2's pool stays rerankTopN chunks, so the order does not depend on the depth.
 * The metrics count the documents returned; a second request is not counted as a search.
 */
async function documentPage(
  retrieve: (k: number, more: Pick<RetrieveOptions, 'countResults' | 'observe' | 'pageSize'>) => Promise<{ hits: RetrievedHit[]; timings: Partial<Record<Stage, number>> }>,
  reader: CollectionReader,
  offset: number,
  k: number,
): Promise<{ hits: RetrievedHit[]; rows: Map<number, ChunkRecord>; timings: Partial<Record<Stage, number>> }> {
  const want = offset + k;
  let depth = Math.min(MAX_DOCUMENT_DEPTH, Math.max(MIN_DOCUMENT_DEPTH, want * CHUNKS_PER_DOCUMENT));
  let rows = new Map<number, ChunkRecord>();
  let docs = 0;
  let counted: RetrievedHit[] | null = null;
  // reads the hits' rows once: they name the documents the metrics count and the page shows
  const countResults = async (hits: RetrievedHit[]) => {
    counted = hits;
    rows = new Map((await reader.chunks(hits.map((h) => h.id))).map((r) => [r.id, r]));
    docs = new Set(hits.map((h) => rows.get(h.id)?.docId).filter((d) => d !== undefined)).size;
    return Math.max(0, Math.min(want, docs) - offset);
  };
  for (let attempt = 0; ; attempt++) {
    const { hits, timings } = await retrieve(depth, { countResults, pageSize: k, ...(attempt > 0 ? { observe: false } : {}) });
    if (counted !== hits) await countResults(hits); // an unobserved search: the session did not count it
    if (docs >= want || hits.length < depth || depth >= MAX_DOCUMENT_DEPTH) return { hits, rows, timings };
    depth = Math.min(MAX_DOCUMENT_DEPTH, depth * 4);
  }
}

function resultOf(rank: number, h: RetrievedHit, r: ChunkRecord, highlighter: Highlighter | null): SearchResult {
  return {
    rank,
    score: round(h.score),
    chunkId: `${r.docId}#${r.seq}`,
    docId: r.docId,
    source: r.source,
    ...(r.locator ? { locator: r.locator } : {}),
    ...(r.title ? { title: r.title } : {}),
    text: r.text,
    span: { start: r.start, end: r.end },
    metadata: r.metadata,
    scores: scoresOf(h),
    lineage: { contentHash: r.contentHash, model: r.embeddedWith, ingestedAt: r.ingestedAt },
    ...(highlighter ? { highlights: highlighter.spans(r.text) } : {}),
  };
}

function passageOf(h: RetrievedHit, r: ChunkRecord, highlighter: Highlighter | null): Passage {
  return {
    chunkId: `${r.docId}#${r.seq}`,
    score: round(h.score),
    text: r.text,
    span: { start: r.start, end: r.end },
    scores: scoresOf(h),
    ...(highlighter ? { highlights: highlighter.spans(r.text) } : {}),
  };
}

function scoresOf(h: RetrievedHit): SearchResult['scores'] {
  return { vector: roundOrNull(h.scores.vector), bm25: roundOrNull(h.scores.bm25), fused: roundOrNull(h.scores.fused), rerank: roundOrNull(h.scores.rerank) };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}
