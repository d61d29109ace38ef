/**
 * `quarry/langchain`: a LangChain.js retriever and vector store over a quarry collection,
 * in this process (`inProcess`) or on a `quarry serve` (`overHttp`, with a key). Needs
 * `@langchain/core` (a peer dependency).
 */
export { QuarryRetriever, type QuarryRetrieverInput } from './retriever.js';
export { QuarryVectorStore, QuarryEmbeddings, type QuarryFilter, type QuarryVectorStoreOptions } from './vector-store.js';
export { QuarryTranslator } from './translator.js';
export { toDocument } from './documents.js';
export { inProcess, overHttp, type InProcessOptions, type OverHttpOptions, type QuarrySource } from '../sources.js';
