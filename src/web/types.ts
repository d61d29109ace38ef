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
}

export interface SearchResponse {
  query: string;
  collection: string;
  model: string;
  mode: Mode;
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
