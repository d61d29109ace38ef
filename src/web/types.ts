/**
 * The HTTP API's answers as the page reads them: the JSON documented in /openapi.json
 * (src/server/schemas.ts). Written out here rather than imported from the server's modules,
 * which are Node code; only the fields the page uses.
 */

export type Scope = 'read' | 'write' | 'admin';
export const MODES = ['vector', 'bm25', 'hybrid'] as const;
export type Mode = (typeof MODES)[number];

export interface Session {
  keyId: string;
  scope: Scope;
  collections: string[];
  label?: string;
}

export interface CollectionSummary {
  name: string;
  model: string;
  documents: number;
  chunks: number;
  version: number;
  state: 'loading' | 'ready' | 'refused' | 'failed';
}

export interface Scores {
  vector: number | null;
  bm25: number | null;
  fused: number | null;
  rerank: number | null;
}

/** Another matching chunk of a document result. */
export interface Passage {
  chunkId: string;
  score: number;
  text: string;
  span: { start: number; end: number };
  scores: Scores;
  highlights?: Array<[number, number]>;
}

/** A document (the API's default; the chunk fields are its best chunk's) or a chunk. */
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
  scores: Scores;
  lineage: { contentHash: string; model: string; ingestedAt: string };
  highlights?: Array<[number, number]>;
  /** Document results: the document's other matching chunks, best first. */
  passages?: Passage[];
}

export interface SearchResponse {
  query: string;
  collection: string;
  model: string;
  mode: Mode;
  unit: 'document' | 'chunk';
  reranker?: string;
  queryTruncated: boolean;
  results: SearchResult[];
  stagesMs: Record<string, number>;
  tookMs: number;
}

export interface SearchRequest {
  query: string;
  mode: Mode;
  k: number;
  rerank?: boolean;
  minScore?: number;
  highlight: true;
}

export interface CollectionInfo {
  collection: string;
  createdAt: string;
  documents: number;
  chunks: number;
  model: {
    id: string;
    variant: string;
    revision: string;
    weightsSha256: string;
    tokenizerSha256: string;
    dims: number;
    pooling: string;
    maxSeqLength: number;
  };
  fingerprint: { probeSet: string; probes: number };
  chunking: { chunkTokens: number; overlapTokens: number };
  index: { type: string; params?: Record<string, number | string>; vectors: number };
  ann: {
    type: string;
    params: Record<string, number | string>;
    fallback: string | null;
    builtAt: string;
    recallAt10: number | null;
    recallQueries: number;
    vectors: number;
    memoryBytes: number;
    recallFloor: number;
  };
  lexical: { documents: number; terms: number } | null;
  version: number;
  disk: { totalBytes: number; vectorBytes: number; metadataBytes: number };
  memory?: { bytes: number | null };
  state: CollectionSummary['state'];
  error?: { code: string; message: string };
}

export interface VersionInfo {
  version: number;
  current: boolean;
  createdAt: string;
  kind: string;
  note: string;
  documents: number;
  chunks: number;
  model: string;
  index: Record<string, unknown>;
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface LatencyStats {
  collection: string;
  window: { maxSamples: number; maxAgeSeconds: number };
  searches: { total: number; inWindow: number };
  overall: LatencySummary;
  modes: Record<string, LatencySummary>;
}

export interface EvalHistoryEntry {
  at: string;
  dataset: string;
  split: string;
  queries: number;
  k: number;
  model: string;
  modes: Array<{ mode: string; metrics: Record<string, number>; latencyMs: { p50: number; p99: number } }>;
}

export interface EvalHistory {
  collection: string;
  evaluations: EvalHistoryEntry[];
  skipped: number;
}

export type GenerationState = 'building' | 'shadow' | 'live' | 'retired' | 'failed';

export interface GateRow {
  generation: number;
  model: string;
  'ndcg@10': number;
  'recall@100': number;
}

export interface GateResult {
  at: string;
  mode: string;
  queries: number;
  tolerance: number;
  live: GateRow;
  shadow: GateRow;
  passed: boolean;
  forced: boolean;
}

export interface GenerationEntry {
  id: number;
  state: GenerationState;
  createdAt: string;
  model: string;
  chunking: { chunkTokens: number; overlapTokens: number };
  index: { type: string; params?: Record<string, number | string> };
  promotedAt?: string;
  retiredAt?: string;
  build?: { documents: number; chunks: number; cacheHits: number; chunksEmbedded: number; elapsedMs: number };
  gate?: GateResult;
  note?: string;
}

export interface ReindexJob {
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  progress?: { documents: number; chunks: number; bytesDone: number; bytesTotal: number };
  report?: { generation: number; model: string; documents: number; chunks: number; chunksEmbedded: number; cacheHitRate: number; elapsedMs: number };
  error?: { code: string; message: string };
}

export interface CanaryStats {
  shadow: number;
  compared: number;
  failed: number;
  meanOverlapAt10: number | null;
  meanTop1ScoreShift: number | null;
}

/** GET /collections/{name}/generations */
export interface Generations {
  collection: string;
  live: number;
  shadow: number | null;
  /** Generations that were live before, oldest first: rollback returns to the last. */
  previous: number[];
  retention: number;
  generations: GenerationEntry[];
  reindex: ReindexJob | null;
  canary: CanaryStats | null;
}

/** POST promote / generations/rollback */
export interface SwitchReport {
  collection: string;
  live: number;
  previous: number;
  model: string;
  gate: GateResult | null;
  forced: boolean;
  caughtUp: { documentsWritten: number; documentsRemoved: number };
}
