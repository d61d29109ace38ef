/** The index stage's public surface: one interface, its implementations, the file format, the registry. */
export type { IndexStats, IndexType, SearchParams, VectorHit, VectorIndex, VectorSource } from './vector-index.js';
export { FlatIndex } from './flat-index.js';
export { HnswIndex, HNSW_DEFAULTS, IndexReadOnlyError, type HnswLoadOptions, type HnswOptions, type HnswQuantization } from './hnsw-index.js';
export {
  FORMAT_VERSION,
  IndexFileError,
  IndexFileNotFoundError,
  extractPayload,
  readIndexFile,
  readIndexHeader,
  writeIndexFile,
  type IndexFileHeader,
  type IndexFileInfo,
  type PayloadPart,
} from './index-file.js';
export { createIndex, loadIndex, registerIndexType, registeredIndexTypes, type IndexFactory, type LoadIndexOptions } from './registry.js';
