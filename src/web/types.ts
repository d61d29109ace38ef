/**
 * The HTTP API's answers as the page reads them: quarry/client's types, which are derived from
 * the JSON schemas the server documents in /openapi.json (src/server/schemas.ts). One
 * definition, so the page cannot drift from what the server sends (tests/wire-types checks
 * the server's real answers against those schemas). Type-only imports: none of the server's
 * code reaches the bundle.
 */
import type {
  CanaryStats,
  CollectionInfo,
  CollectionSummary,
  EvaluationHistory,
  GateResult,
  GenerationEntry,
  Generations,
  LatencyStats,
  ReindexJob,
  SearchRequest as ApiSearchRequest,
  SearchResponse,
  SearchResult,
  SessionInfo,
  SwitchReport,
  VersionInfo,
} from '../client/types.js';

export type {
  CanaryStats,
  CollectionInfo,
  CollectionSummary,
  GateResult,
  GenerationEntry,
  Generations,
  LatencyStats,
  ReindexJob,
  SearchResponse,
  SearchResult,
  SwitchReport,
  VersionInfo,
};
// the list itself, not a copy: a few bytes of plain data in the bundle
export { SEARCH_MODES as MODES, type SearchMode as Mode } from '../retrieve/modes.js';

export type Session = SessionInfo;
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
