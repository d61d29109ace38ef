/**
 * `quarry/llamaindex`: a LlamaIndex.TS retriever and vector store over a quarry collection,
 * in this process (`inProcess`) or on a `quarry serve` (`overHttp`, with a key). Needs
 * `@llamaindex/core` (a peer dependency).
 */
export { QuarryRetriever, type QuarryRetrieverOptions } from './retriever.js';
export { QuarryVectorStore, QuarryEmbedding, type QuarryVectorStoreOptions } from './vector-store.js';
export { toQuarryFilter } from './filters.js';
export { toNodeWithScore } from './nodes.js';
export { inProcess, overHttp, type InProcessOptions, type OverHttpOptions, type QuarrySource } from '../sources.js';
