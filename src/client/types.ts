/**
 * The HTTP API's request and answer types, derived from the JSON schemas the server validates
 * with and documents (src/server/schemas.ts) by json-schema-to-ts: one source, so a field
 * added to a schema reaches the client's types, and nothing here is written by hand.
 * Type-only imports: the client loads none of the server's code at run time.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type {
  collectionInfoResponse,
  collectionSummary,
  createCollectionBody,
  deleteDocumentsBody,
  evaluationBody,
  evaluationHistoryResponse,
  evaluationJob,
  gateResult,
  generationsResponse,
  latencyStatsResponse,
  readinessResponse,
  rollbackBody,
  searchBody,
  searchResponse,
  sessionResponse,
  switchReport,
  upsertDocumentsBody,
  versionInfo,
  errorResponse,
} from '../server/schemas.js';

/** A request body as a client writes it: fields with a server-side default stay optional. */
type RequestBody<S> = FromSchema<S & object, { keepDefaultedPropertiesOptional: true }>;

/** POST /collections/{name}/search: the query and its options. */
export type SearchRequest = RequestBody<typeof searchBody>;
/** What a search answers (the object `quarry search --json` prints). */
export type SearchResponse = FromSchema<typeof searchResponse>;
/** One result of a search. */
export type SearchResult = SearchResponse['results'][number];
/** A metadata filter, as the search request takes it. */
export type SearchFilter = NonNullable<SearchRequest['filter']>;
export type SearchMode = NonNullable<SearchRequest['mode']>;

export type CreateCollectionRequest = RequestBody<typeof createCollectionBody>;
export type CollectionSummary = FromSchema<typeof collectionSummary>;
/** GET /collections/{name}: `quarry info --json`, the serving state and the warm indexes' memory. */
export type CollectionInfo = FromSchema<typeof collectionInfoResponse>;

export type UpsertDocumentsRequest = RequestBody<typeof upsertDocumentsBody>;
/** One document to add or replace: id, text, title, metadata. */
export type DocumentInput = UpsertDocumentsRequest['documents'][number];
export type DeleteDocumentsRequest = RequestBody<typeof deleteDocumentsBody>;

export type RollbackRequest = RequestBody<typeof rollbackBody>;
export type VersionInfo = FromSchema<typeof versionInfo>;

export type EvaluationRequest = RequestBody<typeof evaluationBody>;
export type EvaluationJob = FromSchema<typeof evaluationJob>;
export type EvaluationHistory = FromSchema<typeof evaluationHistoryResponse>;

/** GET /collections/{name}/generations: live, shadow and kept generations, the last reindex job, the canary. */
export type Generations = FromSchema<typeof generationsResponse>;
export type GenerationEntry = Generations['generations'][number];
export type ReindexJob = NonNullable<Generations['reindex']>;
export type CanaryStats = NonNullable<Generations['canary']>;
/** What promote and generations/rollback answer. */
export type SwitchReport = FromSchema<typeof switchReport>;
/** A promotion gate's outcome (also what GATE_REFUSED cites). */
export type GateResult = FromSchema<typeof gateResult>;

export type LatencyStats = FromSchema<typeof latencyStatsResponse>;
export type Readiness = FromSchema<typeof readinessResponse>;
export type SessionInfo = FromSchema<typeof sessionResponse>;
/** Every error answer: `{ "error": { "code", "field"?, "message" } }`. */
export type ErrorResponse = FromSchema<typeof errorResponse>;
