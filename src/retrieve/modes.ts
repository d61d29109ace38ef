/** The search modes and the stages a search times: plain data, so metrics can name them without importing retrieval. */
export const SEARCH_MODES = ['vector', 'bm25', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];
export const DEFAULT_MODE: SearchMode = 'hybrid';
export const STAGES = ['embed', 'ann', 'bm25', 'fuse', 'rerank'] as const;
export type Stage = (typeof STAGES)[number];
