/**
 * One core retrieval call that every adapter uses (the search verb, the evaluation harness,
 * the HTTP server): the query goes through the retrievers the mode names, their windows are
 * fused, tier 2 may rescore the top N, the cutoff applies, then the page is cut.
 *
 *   vector  cosine similarity from the vector index (exact or ANN)
 *   bm25    BM25 over the analyzed chunk text (title + text)
 *   hybrid  both, each contributing a window of max(window, offset + k) candidates, fused
 *           by convex min-max fusion (default) or weighted RRF
 *
 * Tier 2 rescores the top N with a stronger model and orders them by
 * w · minmax(tier-2 score) + (1 - w) · minmax(first-stage score) over that pool (w = rerankWeight).
 *
 * The cutoff (minScore) is on an absolute signal, so one value means the same for every query
 * and mode: the chunk's cosine similarity to the query (scores.vector), in vector and in
 * hybrid mode alike (a chunk only BM25 found gets its cosine computed from its stored
 * vector), never the fused score, whose scale depends on the query's other candidates.
 * With tier 2 on it is the tier-2 model's own score (scores.rerank: a cosine or a
 * probability, also comparable across queries, unlike the pool-relative blend). In hybrid
 * mode a chunk holding a whole-query identifier exactly (pinned first) passes whatever its
 * cosine: a bare order id is close in meaning to nothing. bm25 mode
 * without tier 2 computes no cosine, so a cutoff there is refused rather than silently
 * meaning something else. Nothing passing means an empty list, never a padded one.
 *
 * In vector and hybrid mode every returned hit carries its cosine (scores.vector), computed
 * from its stored vector where the vector window did not hold it.
 *
 * Each search is a `quarry.search` span with one child span per stage, and is recorded in
 * the metrics (whole search, each stage, top-1 cosine, result count): see docs/observability.md.
 */
import { createHash } from 'node:crypto';
import type { Embedder } from '../embed/embedder.js';
import { InvalidInputError } from '../errors.js';
import type { SearchParams } from '../index/vector-index.js';
import { analyze, wholeQueryIdentifier } from '../lexical/analyzer.js';
import type { Bm25Params } from '../lexical/bm25-index.js';
import { recordSearch } from '../observe/metrics.js';
import type { SpanName } from '../observe/span-names.js';
import { withSpan } from '../observe/tracing.js';
import { lexicalText } from '../lexical/lexical-text.js';
import type { CollectionReader, PreparedFilter } from '../store/port.js';
import { convexFuse, DEFAULT_RRF_K, fusionOf, minmax, rrfFuse, type FusionMethod, type RankedList } from './fusion.js';
import { DEFAULT_MODE, SEARCH_MODES, type SearchMode, type Stage } from './modes.js';
import { DEFAULT_RERANK_TOP_N, DEFAULT_RERANK_WEIGHT, type Reranker } from './rerank.js';

export { DEFAULT_MODE, SEARCH_MODES, STAGES, type SearchMode, type Stage } from './modes.js';
export const DEFAULT_WINDOW = 100;
/**
 * The mode a search runs in unless told otherwise: hybrid, the best of the three on every
 * evaluation we ran (SciFact test nDCG@10: hybrid 0.725, bm25 0.682, vector 0.655; EVALUATION.md).
 */
/** Each stage's span, a child of the search's `quarry.search` span. */
const STAGE_SPANS: Record<Stage, SpanName> = {
  embed: 'quarry.embed',
  ann: 'quarry.ann',
  bm25: 'quarry.bm25',
  fuse: 'quarry.fuse',
  rerank: 'quarry.rerank',
};

export interface RetrieveOptions {
  mode?: SearchMode;
  /** Results per page (default 10). */
  k?: number;
  /** Results to skip (default 0). */
  offset?: number;
  /** Drop results whose cosine (or, with rerank, tier-2 score) is below this (see the module comment). */
  minScore?: number;
  /** A metadata filter, prepared by the collection's store (undefined: all). */
  filter?: PreparedFilter;
  /** Vector index knobs per query. */
  params?: SearchParams;
  bm25?: Bm25Params;
  fusion?: FusionMethod;
  rrfK?: number;
  /** Per retriever weight ("vector", "bm25"), default 1 each. */
  weights?: Record<string, number>;
  /** Candidates each retriever contributes before fusing (at least offset + k). */
  window?: number;
  /** Rescore the top `rerankTopN` with the session's tier-2 model. */
  rerank?: boolean;
  rerankTopN?: number;
  /**
   * Whether the tier-2 pool grows to cover the whole page when the page is larger than
   * rerankTopN (default true). A document search asks for several chunks per document and
   * passes false, so its pool stays rerankTopN whatever its chunk depth.
   */
  rerankWholePage?: boolean;
  /** Share of tier 2 in the pool's order, 0..1 (1 = tier 2 alone; default DEFAULT_RERANK_WEIGHT). */
  rerankWeight?: number;
  /**
   * How many results this search returns, for the metrics and the trace (default: the hits).
   * A document search counts the documents its hits make.
   */
  countResults?: (hits: RetrievedHit[]) => number | Promise<number>;
  /** The page size the caller returns, for the trace (default k): a document search asks for more chunks than documents. */
  pageSize?: number;
  /**
   * Record this search in the metrics and traces (default true). Evaluation runs pass false:
   * their thousands of judged queries would otherwise skew the latency and similarity
   * distributions the alerts watch, and make one trace of thousands of spans.
   */
  observe?: boolean;
}

export interface RetrievedHit {
  id: number;
  score: number;
  /** Each tier's score; null where the chunk was not in that tier's window (or the tier did not run). */
  scores: { vector: number | null; bm25: number | null; fused: number | null; rerank: number | null };
}

export interface Retrieved {
  hits: RetrievedHit[];
  /** Milliseconds per stage that ran. */
  timings: Partial<Record<Stage, number>>;
  /** Candidates before the cutoff and the page cut. */
  candidates: number;
}

/** RetrieveOptions validated and resolved to what one search does. */
interface Plan {
  mode: SearchMode;
  offset: number;
  page: number;
  window: number;
  fusion: FusionMethod;
  rerankN: number;
  rerankWeight: number;
}

function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < min) throw new InvalidInputError(`${name} must be an integer ≥ ${min}, got ${String(v)}`, { field: name });
  return x;
}

export class SearchSession {
  constructor(
    /** The collection, pinned to one version, read through the store interface. */
    readonly reader: CollectionReader,
    /** The collection's own model (checked by the caller); needed for vector and hybrid. */
    private readonly embedder: Embedder | null,
    private readonly reranker: Reranker | null = null,
  ) {}

  /** Closes the reader (a reader wrapping a collection opened elsewhere leaves that collection open). */
  close(): void {
    void this.reader.close();
  }

  /** Loads the indexes the modes need now, so a first query pays no load time. */
  async warm(modes: readonly SearchMode[]): Promise<void> {
    await this.reader.warm({ vector: modes.some((m) => m !== 'bm25'), lexical: modes.some((m) => m !== 'vector') });
  }

  async retrieve(query: string, opts: RetrieveOptions = {}): Promise<Retrieved> {
    const mode = opts.mode ?? DEFAULT_MODE;
    if (!SEARCH_MODES.includes(mode)) throw new InvalidInputError(`mode must be one of ${SEARCH_MODES.join(', ')}, got "${String(mode)}"`, { field: 'mode' });
    const k = positiveInt('k', opts.k, 10);
    const offset = positiveInt('offset', opts.offset, 0, 0);
    const page = offset + k;
    const window = mode === 'hybrid' ? Math.max(positiveInt('window', opts.window, DEFAULT_WINDOW), page) : page;
    const fusion = fusionOf(opts.fusion, opts.rrfK);
    const topN = positiveInt('rerankTopN', opts.rerankTopN, DEFAULT_RERANK_TOP_N);
    const rerankN = opts.rerank ? (opts.rerankWholePage === false ? topN : Math.max(topN, page)) : 0;
    const rerankWeight = opts.rerankWeight ?? DEFAULT_RERANK_WEIGHT;
    if (!(rerankWeight >= 0 && rerankWeight <= 1)) throw new InvalidInputError(`rerankWeight must be a number from 0 to 1, got ${String(opts.rerankWeight)}`, { field: 'rerankWeight' });
    if (opts.minScore !== undefined && mode === 'bm25' && !opts.rerank) {
      throw new InvalidInputError(
        'the min score is a cosine similarity (or, with rerank, the tier-2 score), and bm25 mode computes neither: search in hybrid or vector mode, add rerank, or drop the min score',
        { field: 'minScore' },
      );
    }
    if (opts.rerank && this.reranker === null) {
      throw new InvalidInputError('rerank was asked for but this search has no tier-2 model loaded', { field: 'rerank' });
    }
    const name = this.reader.name;
    const plan: Plan = { mode, offset, page, window, fusion, rerankN, rerankWeight };
    if (opts.observe === false) return (await this.run(query, opts, plan, false)).retrieved;
    // Traced and measured here, in the one core call, so every adapter (CLI, library, HTTP) is.
    return withSpan('quarry.search', { 'quarry.collection': name, 'quarry.mode': mode, 'quarry.k': opts.pageSize ?? k }, async (span) => {
      const started = performance.now();
      const out = await this.run(query, opts, plan, true);
      const results = opts.countResults ? await opts.countResults(out.retrieved.hits) : out.retrieved.hits.length;
      span.setAttribute('quarry.results', results);
      recordSearch({
        collection: name,
        mode,
        tookMs: performance.now() - started,
        stagesMs: out.retrieved.timings,
        top1Similarity: out.top1Similarity,
        results,
      });
      return out.retrieved;
    });
  }

  /** The search itself, on validated options; also returns the top vector cosine for the metrics. */
  private async run(query: string, opts: RetrieveOptions, plan: Plan, traced: boolean): Promise<{ retrieved: Retrieved; top1Similarity: number | null }> {
    const { mode, offset, page, window, fusion, rerankN, rerankWeight } = plan;
    const timings: Partial<Record<Stage, number>> = {};
    const stageAttrs = { 'quarry.collection': this.reader.name, 'quarry.mode': mode };
    const timed = async <T>(stage: Stage, f: () => T | Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const out = await f();
      timings[stage] = (timings[stage] ?? 0) + (performance.now() - t0);
      return out;
    };
    const time = <T>(stage: Stage, f: () => T | Promise<T>): Promise<T> =>
      traced ? withSpan(STAGE_SPANS[stage], stageAttrs, () => timed(stage, f)) : timed(stage, f);
    const filter = opts.filter;
    if (filter && (await this.reader.filterChunks(filter)).length === 0) return { retrieved: { hits: [], timings, candidates: 0 }, top1Similarity: null };
    // a single-retriever mode needs its window to cover the rerank pool too
    const fetch = mode === 'hybrid' ? Math.max(window, rerankN) : Math.max(page, rerankN);

    const lists: RankedList[] = [];
    let top1Similarity: number | null = null;
    let qv: Float32Array | null = null;
    if (mode !== 'bm25') {
      if (this.embedder === null) throw new InvalidInputError(`${mode} search needs the collection's embedding model`, { field: 'mode' });
      const embedded = (qv = await time('embed', () => this.embedder!.embedQuery(query)));
      const hits = await time('ann', () => this.reader.searchVectors(embedded, fetch, { filter, params: opts.params }));
      lists.push({ name: 'vector', hits });
      // the similarity distribution the metrics watch: the best cosine, before fusion, tier 2 and the cutoff
      for (const h of hits) if (top1Similarity === null || h.score > top1Similarity) top1Similarity = h.score;
    }
    if (mode !== 'vector') {
      const terms = analyze(query);
      lists.push({ name: 'bm25', hits: await time('bm25', () => this.reader.searchLexical(terms, fetch, { filter, bm25: opts.bm25 })) });
    }

    let ranked: RetrievedHit[];
    if (mode === 'hybrid') {
      ranked = await time('fuse', async () => {
        const fused = fusion === 'convex' ? convexFuse(lists, { weights: opts.weights }) : rrfFuse(lists, { k: opts.rrfK ?? DEFAULT_RRF_K, weights: opts.weights });
        const hits = fused.map((f) => ({
          id: f.id,
          score: f.score,
          scores: { vector: f.from.vector?.score ?? null, bm25: f.from.bm25?.score ?? null, fused: f.score, rerank: null },
        }));
        return pinIdentifierMatches(query, hits, this.reader);
      });
    } else {
      ranked = lists[0].hits.map((h) => ({
        id: h.id,
        score: h.score,
        scores: { vector: mode === 'vector' ? h.score : null, bm25: mode === 'bm25' ? h.score : null, fused: null, rerank: null },
      }));
    }

    if (opts.rerank && ranked.length > 0) {
      const pool = ranked.slice(0, rerankN);
      const rows = new Map((await this.reader.chunks(pool.map((h) => h.id))).map((r) => [r.id, r]));
      const candidates = pool.filter((h) => rows.has(h.id)).map((h) => {
        const r = rows.get(h.id)!;
        const text = lexicalText(r.title, r.text);
        // the hash of what tier 2 reads (title included), so a retitled passage is re-embedded
        return { id: h.id, text, hash: createHash('sha256').update(text).digest('hex') };
      });
      const scores = await time('rerank', () => this.reranker!.score(query, candidates, this.reader.tier2()));
      const byId = new Map(candidates.map((c, i) => [c.id, scores[i]]));
      const kept = pool.filter((h) => byId.has(h.id));
      const model = minmax(kept.map((h) => byId.get(h.id)!));
      const first = minmax(kept.map((h) => h.score));
      const reranked = kept
        .map((h, i) => ({
          h: { ...h, score: rerankWeight * model[i] + (1 - rerankWeight) * first[i], scores: { ...h.scores, rerank: byId.get(h.id)! } },
          i,
        }))
        .sort((a, b) => b.h.score - a.h.score || a.i - b.i)
        .map((x) => x.h);
      // Beyond the pool, results keep their first-stage order (rerank score null).
      ranked = [...reranked, ...ranked.slice(rerankN)];
      // an exact identifier match stays first whatever tier 2 thinks of it
      if (mode === 'hybrid') ranked = await pinIdentifierMatches(query, ranked, this.reader);
    }

    const candidates = ranked.length;
    if (opts.minScore !== undefined) {
      const min = opts.minScore;
      if (opts.rerank) {
        // tier 2's own score, which results beyond the pool do not have: they are dropped
        ranked = ranked.filter((h) => h.scores.rerank !== null && h.scores.rerank >= min);
      } else {
        ranked = await this.withCosines(qv!, ranked);
        // an exact match of a whole-query identifier (pinned first in hybrid mode) is the answer
        // whatever its cosine: an order record shares little meaning with its bare id
        const exact = mode === 'hybrid' ? await identifierHolders(query, this.reader) : new Set<number>();
        ranked = ranked.filter((h) => exact.has(h.id) || (h.scores.vector !== null && h.scores.vector >= min));
      }
    }
    let hits = ranked.slice(offset, page);
    if (qv !== null) hits = await this.withCosines(qv, hits);
    return { retrieved: { hits, timings, candidates }, top1Similarity };
  }

  /** Fills in the cosine of hits only BM25 found, from their stored vectors (one read per query). */
  private async withCosines(qv: Float32Array, hits: RetrievedHit[]): Promise<RetrievedHit[]> {
    const missing = hits.filter((h) => h.scores.vector === null).map((h) => h.id);
    if (missing.length === 0) return hits;
    const sims = await this.reader.similarities(qv, missing);
    return hits.map((h) => (h.scores.vector === null && sims.has(h.id) ? { ...h, scores: { ...h.scores, vector: sims.get(h.id)! } } : h));
  }
}

/** Chunks holding the query's whole-query identifier exactly (none when the query is not one). */
async function identifierHolders(query: string, reader: CollectionReader): Promise<Set<number>> {
  const term = wholeQueryIdentifier(query);
  return term === null ? new Set() : reader.chunksHolding(term);
}

/** A whole-query identifier: chunks holding it exactly go first, in their fused order. */
async function pinIdentifierMatches(query: string, hits: RetrievedHit[], reader: CollectionReader): Promise<RetrievedHit[]> {
  const holders = await identifierHolders(query, reader);
  if (holders.size === 0) return hits;
  const first = hits.filter((h) => holders.has(h.id));
  return first.length === 0 ? hits : [...first, ...hits.filter((h) => !holders.has(h.id))];
}
