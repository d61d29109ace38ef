/**
 * The HTTP API's answers as the page reads them. Those the server describes with a JSON
 * schema (src/server/schemas.ts) are quarry/client's types, derived from those schemas
 * (src/client/types.ts): one definition, so the page cannot drift from what the server sends.
 * Type-only imports: none of the server's code reaches the bundle. The answers without a full
 * schema yet (collection info, generations) are written out below, only the fields the page uses.
 */
import type {
  CollectionInfo,
  CollectionSummary,
  EvaluationHistory,
  LatencyStats,
  SearchRequest as ApiSearchRequest,
  SearchResponse,
  SearchResult,
  SessionInfo,
  VersionInfo,
} from '../client/types.js';
import type { GateResult } from '../store/gate-result.js';

export type { CollectionInfo, CollectionSummary, GateResult, LatencyStats, SearchResponse, SearchResult, VersionInfo };
// the list itself, not a copy: a few bytes of plain data in the bundle
export { SEARCH_MODES as MODES, type SearchMode as Mode } from '../retrieve/modes.js';

export type Session = SessionInfo;
export type Scope = Session['scope'];
export type Scores = SearchResult['scores'];
/** [start, end) UTF-16 offsets into a result's text where a query term occurs. */
export type Highlights = NonNullable<SearchResult['highlights']>;
/** Another matching chunk of a document result. */
export type Passage = NonNullable<SearchResult['passages']>[number];
/** What the page asks: the options its search form sets, with highlights always on. */
export type SearchRequest = Pick<ApiSearchRequest, 'query' | 'mode' | 'k' | 'rerank' | 'minScore'> & { highlight: true };

export type LatencySummary = LatencyStats['overall'];
export type EvalHistory = EvaluationHistory;
export type EvalHistoryEntry = EvalHistory['evaluations'][number];

export type GenerationState = 'building' | 'shadow' | 'live' | 'retired' | 'failed';

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
