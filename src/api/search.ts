import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { InvalidInputError } from '../errors.js';
import type { SearchParams } from '../index/vector-index.js';
import { compileFilter, parseFilter, type Filter } from '../retrieve/filter.js';
import { CollectionSearcher } from '../store/collection-index.js';
import { Collection } from '../store/collection.js';
import { checkRequestedModel } from './index-paths.js';
import { assertSameModel, loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface SearchOptions extends CollectionOptions {
  /** How many results at most (default 10). */
  k?: number;
  /** Drop results whose cosine similarity is below this; may leave none. */
  minScore?: number;
  /** Model reference; must be the collection's own model (default: it is). */
  model?: string;
  /** A loaded embedder to reuse (its identity is still checked). */
  embedder?: Embedder;
  /** Metadata filter (see src/retrieve/filter.ts), as an object or JSON text. */
  filter?: Filter | string;
  /** Per-query index knobs: nprobe (ivf, ivfpq), efSearch (hnsw), refine (ivfpq). */
  params?: SearchParams;
}

export interface SearchResult {
  rank: number;
  score: number;
  chunkId: string;
  docId: string;
  source: string;
  locator?: string;
  title?: string;
  text: string;
  span: { start: number; end: number };
  metadata: Record<string, unknown>;
  scores: { vector: number };
  lineage: { contentHash: string; model: string; ingestedAt: string };
}

export interface SearchResponse {
  query: string;
  collection: string;
  model: string;
  /** True when the query was longer than the model reads and was cut. */
  queryTruncated: boolean;
  results: SearchResult[];
  tookMs: number;
}

export const MAX_QUERY_CHARS = 16_384;
export const MAX_K = 1000;

export function validateSearchInput(query: unknown, k: unknown, minScore: unknown): { query: string; k: number; minScore?: number } {
  if (typeof query !== 'string') throw new InvalidInputError('query must be a string', { field: 'query' });
  const q = query.trim();
  if (q.length === 0) throw new InvalidInputError('query is empty', { field: 'query' });
  if (q.length > MAX_QUERY_CHARS) {
    throw new InvalidInputError(`query is ${q.length} characters; the limit is ${MAX_QUERY_CHARS}`, { field: 'query' });
  }
  const kk = k ?? 10;
  if (typeof kk !== 'number' || !Number.isInteger(kk) || kk < 1 || kk > MAX_K) {
    throw new InvalidInputError(`k must be an integer from 1 to ${MAX_K}, got ${String(k)}`, { field: 'k' });
  }
  if (minScore !== undefined && (typeof minScore !== 'number' || !Number.isFinite(minScore) || minScore < -1 || minScore > 1)) {
    throw new InvalidInputError(`min score must be a number from -1 to 1, got ${String(minScore)}`, { field: 'minScore' });
  }
  return { query: q, k: kk, minScore: minScore as number | undefined };
}

/**
 * Semantic search: embeds the query with the collection's own model (anything else is
 * refused), scores every chunk by inner product (exact), and keeps the top k that pass
 * the similarity cutoff. The cutoff may leave nothing: an empty list, never a padded top-k.
 */
export async function search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
  const started = performance.now();
  const input = validateSearchInput(query, opts.k, opts.minScore);
  const filter = opts.filter === undefined ? undefined : compileFilter(parseFilter(opts.filter));
  const name = collectionOf(opts);
  const collection = await Collection.open(dataDirOf(opts), name, 'read');
  let embedder: Embedder | undefined;
  try {
    const stored = collection.manifest.model;
    const ref = opts.model ?? refOf(stored);
    if (opts.model !== undefined) checkRequestedModel(name, stored, ref);
    embedder = opts.embedder ?? (await loadEmbedder(ref, opts.modelsDir));
    assertSameModel(name, stored, embedder.identity);
    const queryTruncated = embedder.tokenizer.encodeForModel(embedder.identity.queryPrefix + input.query).truncated;
    const qv = await embedder.embedQuery(input.query);
    const searcher = await CollectionSearcher.open(collection);
    let hits = filter
      ? await searcher.searchWithin(qv, input.k, collection.db.liveChunkIdsWhere(filter.sql, filter.params), opts.params)
      : searcher.search(qv, input.k, opts.params);
    if (input.minScore !== undefined) hits = hits.filter((h) => h.score >= input.minScore!);
    const rows = new Map(collection.db.chunksWithDocuments(hits.map((h) => h.id)).map((r) => [r.id, r]));
    const results: SearchResult[] = [];
    for (const h of hits) {
      const r = rows.get(h.id);
      if (!r) continue;
      const score = round(h.score);
      results.push({
        rank: results.length + 1,
        score,
        chunkId: `${r.doc_id}#${r.seq}`,
        docId: r.doc_id,
        source: r.source,
        ...(r.locator ? { locator: r.locator } : {}),
        ...(r.title ? { title: r.title } : {}),
        text: r.text,
        span: { start: r.start, end: r.end },
        metadata: JSON.parse(r.metadata) as Record<string, unknown>,
        scores: { vector: score },
        lineage: { contentHash: r.content_hash, model: r.embedded_with, ingestedAt: r.ingested_at },
      });
    }
    return {
      query: input.query,
      collection: name,
      model: describeIdentity(stored),
      queryTruncated,
      results,
      tookMs: Math.round((performance.now() - started) * 10) / 10,
    };
  } finally {
    if (embedder && !opts.embedder) await embedder.close();
    await collection.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
