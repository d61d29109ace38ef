/**
 * Prometheus metrics (prom-client), in one registry the server exposes at /metrics.
 * Histograms, not summaries, so replicas aggregate. The names and labels are a contract:
 * deploy/prometheus's alert rules and docs/observability.md are written against them.
 *
 * Importing this module registers the metrics in `metricsRegistry` (its own registry, never
 * prom-client's global one, so a second copy of the module cannot collide with the first)
 * and nothing else happens until a record* or set* call.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SearchMode, Stage } from '../retrieve/modes.js';

export const metricsRegistry = new Registry();
/** Process memory, CPU, event loop lag and heap, with prom-client's standard names (no prefix). */
collectDefaultMetrics({ register: metricsRegistry });

/** The Content-Type of metricsText(): Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE: string = metricsRegistry.contentType;

/** Seconds, 1-2-5 steps from 100 µs (an exact search over a small collection) to 30 s. */
const LATENCY_BUCKETS = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30];
/** Embedding calls include whole ingest batches, which take minutes. */
const EMBED_BUCKETS = [...LATENCY_BUCKETS, 60, 120, 300];
/** Cosine from -1 to 1 in steps of 0.05 (computed from integers so the bounds print exactly). */
const SIMILARITY_BUCKETS = Array.from({ length: 41 }, (_, i) => (i - 20) / 20);
const RESULT_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100];

const registers = [metricsRegistry];

const searchDuration = new Histogram({
  name: 'quarry_search_duration_seconds',
  help: 'Time of one whole search (every stage, the cutoff and the page cut), by collection and mode.',
  labelNames: ['collection', 'mode'] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
const stageDuration = new Histogram({
  name: 'quarry_search_stage_duration_seconds',
  help: 'Time of one search stage (embed, ann, bm25, fuse, rerank), by collection, mode and stage.',
  labelNames: ['collection', 'mode', 'stage'] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
const embedDuration = new Histogram({
  name: 'quarry_embed_duration_seconds',
  help: 'Time of one embedding call, by model (id:variant) and kind (query or documents).',
  labelNames: ['model', 'kind'] as const,
  buckets: EMBED_BUCKETS,
  registers,
});
const embedTexts = new Counter({
  name: 'quarry_embed_texts_total',
  help: 'Texts embedded, by model (id:variant) and kind (query or documents): embedding throughput.',
  labelNames: ['model', 'kind'] as const,
  registers,
});
const ingestDocuments = new Counter({
  name: 'quarry_ingest_documents_total',
  help: 'Documents an ingest run (index, upsert, evaluation corpus) handled, by collection and change (added, updated or unchanged).',
  labelNames: ['collection', 'change'] as const,
  registers,
});
const ingestChunks = new Counter({
  name: 'quarry_ingest_chunks_total',
  help: 'Chunks ingest runs wrote, by collection.',
  labelNames: ['collection'] as const,
  registers,
});
const top1Similarity = new Histogram({
  name: 'quarry_search_top1_similarity',
  help: 'Cosine similarity of the top vector hit of every vector or hybrid search, by collection.',
  labelNames: ['collection'] as const,
  buckets: SIMILARITY_BUCKETS,
  registers,
});
const searchResults = new Histogram({
  name: 'quarry_search_results',
  help: 'Results a search returned, after the similarity cutoff and the page cut, by collection and mode.',
  labelNames: ['collection', 'mode'] as const,
  buckets: RESULT_BUCKETS,
  registers,
});
const httpRequests = new Counter({
  name: 'quarry_http_requests_total',
  help: 'HTTP requests answered, by route template, method and status code.',
  labelNames: ['route', 'method', 'status'] as const,
  registers,
});
const httpDuration = new Histogram({
  name: 'quarry_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route template, method and status code.',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

const OVERLAP_BUCKETS = Array.from({ length: 11 }, (_, i) => i / 10);
const canaryQueries = new Counter({
  name: 'quarry_canary_queries_total',
  help: 'Searches also answered by the shadow generation in the background (canary), by collection and outcome (compared or failed).',
  labelNames: ['collection', 'outcome'] as const,
  registers,
});
const canaryOverlap = new Histogram({
  name: 'quarry_canary_overlap_at_10',
  help: "Share of the live top-10 documents the shadow generation's top 10 also holds, per canary search, by collection.",
  labelNames: ['collection'] as const,
  buckets: OVERLAP_BUCKETS,
  registers,
});
const canaryScoreShift = new Histogram({
  name: 'quarry_canary_top1_score_shift',
  help: "Shadow's top-1 score minus live's, per canary search, by collection (a model change moves the scale; watch the spread).",
  labelNames: ['collection'] as const,
  buckets: SIMILARITY_BUCKETS,
  registers,
});

/** One canary comparison: the shadow generation answered a live query in the background. */
export function recordCanary(collection: string, c: { overlapAt10: number; top1ScoreShift: number } | 'failed'): void {
  if (c === 'failed') {
    canaryQueries.inc({ collection, outcome: 'failed' });
    return;
  }
  canaryQueries.inc({ collection, outcome: 'compared' });
  canaryOverlap.observe({ collection }, c.overlapAt10);
  canaryScoreShift.observe({ collection }, c.top1ScoreShift);
}

function collectionGauge(name: string, help: string): Gauge<'collection'> {
  return new Gauge({ name, help, labelNames: ['collection'] as const, registers });
}
const documents = collectionGauge('quarry_documents', 'Live documents in the collection.');
const chunks = collectionGauge('quarry_chunks', 'Live chunks in the collection.');
const vectors = collectionGauge('quarry_vectors', 'Vectors in the collection\'s vector index.');
const diskBytes = collectionGauge('quarry_index_disk_bytes', 'Bytes the collection takes on disk (every file of its folder).');
const memoryBytes = collectionGauge('quarry_index_memory_bytes', 'Bytes the collection\'s loaded indexes take in memory.');
const evalNdcg = collectionGauge('quarry_eval_ndcg_at_10', 'nDCG@10 of the last evaluation run.');
const evalRecall = collectionGauge('quarry_eval_recall_at_100', 'Recall@100 of the last evaluation run.');
const evalNdcgBaseline = collectionGauge('quarry_eval_ndcg_at_10_baseline', 'Recorded baseline nDCG@10 the alert rules compare against.');
const evalRecallBaseline = collectionGauge('quarry_eval_recall_at_100_baseline', 'Recorded baseline Recall@100 the alert rules compare against.');
const COLLECTION_GAUGES = [documents, chunks, vectors, diskBytes, memoryBytes, evalNdcg, evalRecall, evalNdcgBaseline, evalRecallBaseline];

const searchQueueWait = new Histogram({
  name: 'quarry_search_queue_wait_seconds',
  help: 'Time a search waited for its turn before it ran (admission control; 0 when it ran at once). quarry_search_duration_seconds counts the time after.',
  buckets: LATENCY_BUCKETS,
  registers,
});

const searchAdmissions = new Counter({
  name: 'quarry_search_admissions_total',
  help: "Searches by what admission control did: admitted (ran, perhaps after a wait), shed (refused with 429: too many waiting), abandoned (the client left while waiting).",
  labelNames: ['outcome'] as const,
  registers,
});

/** What admission control did with one search (src/server/admission.ts); a wait in seconds for admitted ones. */
export function recordSearchQueue(outcome: 'admitted' | 'shed' | 'abandoned', waitSeconds?: number): void {
  searchAdmissions.inc({ outcome });
  if (outcome === 'admitted' && waitSeconds !== undefined) searchQueueWait.observe(waitSeconds);
}

export type EmbedKind = 'query' | 'documents';

export interface SearchObservation {
  collection: string;
  mode: SearchMode;
  /** Milliseconds of the whole search. */
  tookMs: number;
  /** Milliseconds per stage that ran. */
  stagesMs: Partial<Record<Stage, number>>;
  /** Cosine of the top vector hit; null when the vector retriever did not run or found nothing. */
  top1Similarity: number | null;
  /** Results returned. */
  results: number;
}

/** One finished search: its duration, each stage's, the top-1 cosine and the result count. */
export function recordSearch(o: SearchObservation): void {
  searchDuration.observe({ collection: o.collection, mode: o.mode }, o.tookMs / 1000);
  for (const [stage, ms] of Object.entries(o.stagesMs) as Array<[Stage, number | undefined]>) {
    if (ms !== undefined) stageDuration.observe({ collection: o.collection, mode: o.mode, stage }, ms / 1000);
  }
  if (o.top1Similarity !== null && Number.isFinite(o.top1Similarity)) top1Similarity.observe({ collection: o.collection }, o.top1Similarity);
  searchResults.observe({ collection: o.collection, mode: o.mode }, o.results);
}

/** One embedding call (`model` as id:variant) of `texts` texts. */
export function recordEmbed(model: string, kind: EmbedKind, seconds: number, texts: number): void {
  embedDuration.observe({ model, kind }, seconds);
  embedTexts.inc({ model, kind }, texts);
}

/** One finished ingest run's counts. */
export function recordIngest(collection: string, r: { documentsAdded: number; documentsUpdated: number; documentsUnchanged: number; chunksWritten: number }): void {
  ingestDocuments.inc({ collection, change: 'added' }, r.documentsAdded);
  ingestDocuments.inc({ collection, change: 'updated' }, r.documentsUpdated);
  ingestDocuments.inc({ collection, change: 'unchanged' }, r.documentsUnchanged);
  ingestChunks.inc({ collection }, r.chunksWritten);
}

/** One answered HTTP request; `route` is the route template (/collections/:name/search), never the raw URL. */
export function recordHttpRequest(route: string, method: string, status: number | string, seconds: number): void {
  const labels = { route, method: method.toUpperCase(), status: String(status) };
  httpRequests.inc(labels);
  httpDuration.observe(labels, seconds);
}

export interface CollectionSizes {
  documents: number;
  chunks: number;
  vectors: number;
  diskBytes: number;
  memoryBytes: number;
}

export function setCollectionGauges(collection: string, s: CollectionSizes): void {
  documents.set({ collection }, s.documents);
  chunks.set({ collection }, s.chunks);
  vectors.set({ collection }, s.vectors);
  diskBytes.set({ collection }, s.diskBytes);
  memoryBytes.set({ collection }, s.memoryBytes);
}

export interface EvalScores {
  ndcgAt10: number;
  recallAt100: number;
  /** The recorded baseline, when there is one (alerts fire on a drop below it). */
  baselineNdcgAt10?: number;
  baselineRecallAt100?: number;
}

export function setEvalGauges(collection: string, e: EvalScores): void {
  evalNdcg.set({ collection }, e.ndcgAt10);
  evalRecall.set({ collection }, e.recallAt100);
  if (e.baselineNdcgAt10 !== undefined) evalNdcgBaseline.set({ collection }, e.baselineNdcgAt10);
  if (e.baselineRecallAt100 !== undefined) evalRecallBaseline.set({ collection }, e.baselineRecallAt100);
}

/** Drops a deleted collection's gauges, so it does not linger in /metrics with its last sizes. */
export function forgetCollectionGauges(collection: string): void {
  for (const g of COLLECTION_GAUGES) g.remove({ collection });
}

/** Every metric in the Prometheus text format (serve it with METRICS_CONTENT_TYPE). */
export function metricsText(): Promise<string> {
  return metricsRegistry.metrics();
}
