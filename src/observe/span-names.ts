/**
 * The closed vocabulary of quarry's traces: every span name and attribute key in one place,
 * so dashboards and queries written against them do not break when code moves. A name or
 * key outside these lists does not compile (withSpan takes only these types).
 */

export const SPAN_NAMES = [
  /** One whole retrieval (SearchSession.retrieve): the parent of the stage spans below. */
  'quarry.search',
  /** Query or document embedding (the search's embed stage, and every embedder call). */
  'quarry.embed',
  /** The vector index lookup. */
  'quarry.ann',
  /** The BM25 lookup. */
  'quarry.bm25',
  /** Fusing the vector and BM25 lists (hybrid). */
  'quarry.fuse',
  /** Tier 2 rescoring the top N. */
  'quarry.rerank',
  /** Writing documents into a collection. */
  'quarry.ingest',
  /** Loading a collection and running its warm-up query before serving. */
  'quarry.warmup',
  /** An evaluation run. */
  'quarry.eval',
] as const;
export type SpanName = (typeof SPAN_NAMES)[number];

export const SPAN_ATTRIBUTES = [
  /** Collection name. */
  'quarry.collection',
  /** Search mode: vector, bm25 or hybrid. */
  'quarry.mode',
  /** Results asked for (the page size). */
  'quarry.k',
  /** Results returned, after the cutoff and the page cut. */
  'quarry.results',
  /** Model reference (id:variant) of an embedding call. */
  'quarry.model',
  /** Embedding side: query or documents. */
  'quarry.embed.kind',
  /** Texts in one embedding call. */
  'quarry.embed.texts',
] as const;
export type SpanAttributeKey = (typeof SPAN_ATTRIBUTES)[number];
export type SpanAttributeValue = string | number | boolean;
export type QuarrySpanAttributes = Partial<Record<SpanAttributeKey, SpanAttributeValue>>;
