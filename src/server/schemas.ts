/**
 * The HTTP API's JSON schemas, in one place: Fastify validates every request with them and
 * @fastify/swagger turns the same objects into the OpenAPI 3 document at /openapi.json.
 * Every object is closed (`additionalProperties: false`) and every string, array and number
 * bounded. Response schemas are for the document only (attached in app.ts's swagger
 * transform), so they never filter what a handler sends.
 */
import { INDEX_TYPES } from '../index/vector-index.js';
import { MAX_DOCUMENT_ID_CHARS } from '../ingest/types.js';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '../observe/audit-names.js';
import { DEFAULT_MODE, SEARCH_MODES } from '../retrieve/modes.js';

/** Limits, also quoted by docs/server.md. */
export const LIMITS = {
  /** Body of a batch upsert. */
  documentsBodyBytes: 10 * 1024 * 1024,
  /** Body of a delete-by-ids request. */
  deleteBodyBytes: 1024 * 1024,
  /** Any other body (search, create, rollback, evaluation). */
  bodyBytes: 64 * 1024,
  documentsPerRequest: 1000,
  idsPerRequest: 10_000,
  documentTextChars: 5_000_000,
  titleChars: 2000,
  metadataFields: 64,
  queryChars: 2048,
  /** Levels of objects and arrays in any JSON body (metadata: MAX_METADATA_DEPTH, filters: MAX_FILTER_DEPTH). */
  jsonDepth: 64,
  k: 1000,
  offset: 10_000,
} as const;

export const COLLECTION_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

const collectionName = {
  type: 'string',
  pattern: COLLECTION_NAME_PATTERN,
  maxLength: 64,
  description: "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
} as const;

export const nameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: collectionName },
} as const;

export const evaluationParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'id'],
  properties: { name: collectionName, id: { type: 'string', pattern: '^[0-9a-f]{16}$', maxLength: 16 } },
} as const;

export const modelRef = { type: 'string', minLength: 1, maxLength: 200, description: 'a model id with an optional variant, e.g. sentence-transformers/all-MiniLM-L6-v2:int8' } as const;

export const indexSettings = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { type: 'string', enum: [...INDEX_TYPES] },
    params: {
      type: 'object',
      maxProperties: 16,
      description: 'nlist, nprobe, pqM, pqBits, refine (ivf, ivfpq); connectivity, expansionAdd, expansionSearch, quantization (hnsw)',
      additionalProperties: { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 16 }] },
    },
    recallFloor: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

export const createCollectionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: collectionName,
    model: modelRef,
    chunkTokens: { type: 'integer', minimum: 8, maximum: 8192 },
    overlapTokens: { type: 'integer', minimum: 0, maximum: 4096 },
    index: indexSettings,
  },
} as const;

export const upsertDocumentsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['documents'],
  properties: {
    documents: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.documentsPerRequest,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'text'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: MAX_DOCUMENT_ID_CHARS },
          text: { type: 'string', maxLength: LIMITS.documentTextChars },
          title: { type: 'string', maxLength: LIMITS.titleChars },
          metadata: { type: 'object', maxProperties: LIMITS.metadataFields, description: 'any JSON object; metadata filters match on it' },
        },
      },
    },
  },
} as const;

export const deleteDocumentsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['ids'],
  properties: {
    ids: { type: 'array', minItems: 1, maxItems: LIMITS.idsPerRequest, items: { type: 'string', minLength: 1, maxLength: MAX_DOCUMENT_ID_CHARS } },
  },
} as const;

export const searchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, maxLength: LIMITS.queryChars },
    k: { type: 'integer', minimum: 1, maximum: LIMITS.k, default: 10 },
    offset: { type: 'integer', minimum: 0, maximum: LIMITS.offset },
    mode: { type: 'string', enum: [...SEARCH_MODES], default: DEFAULT_MODE },
    chunks: {
      type: 'boolean',
      default: false,
      description: 'true: one result per chunk, as ranked; default: one result per document (its best chunk) with its other matching chunks under `passages`, k and offset counting documents',
    },
    filter: {
      type: 'object',
      maxProperties: 32,
      description: 'metadata filter: equality, $in, $nin, $ne, $gt/$gte/$lt/$lte on numbers and ISO dates, $and/$or, dotted fields',
    },
    minScore: {
      type: 'number',
      minimum: -1e9,
      maximum: 1e9,
      description: "cutoff on each chunk's cosine similarity to the query, the same in vector and hybrid mode (with rerank: on the tier-2 score); refused in bm25 mode without rerank",
    },
    weights: {
      type: 'object',
      additionalProperties: false,
      properties: { vector: { type: 'number', minimum: 0, maximum: 1000 }, bm25: { type: 'number', minimum: 0, maximum: 1000 } },
    },
    fusion: { type: 'string', enum: ['convex', 'rrf'] },
    rrfK: { type: 'number', minimum: 0, maximum: 1e6 },
    window: { type: 'integer', minimum: 1, maximum: 10_000 },
    bm25: {
      type: 'object',
      additionalProperties: false,
      properties: { k1: { type: 'number', minimum: 0, maximum: 10 }, b: { type: 'number', minimum: 0, maximum: 1 } },
    },
    rerank: { type: 'boolean' },
    rerankTopN: { type: 'integer', minimum: 1, maximum: 1000 },
    rerankWeight: { type: 'number', minimum: 0, maximum: 1 },
    highlight: { type: 'boolean', description: "add each result's `highlights`: [start, end) UTF-16 offsets into its text where a query term occurs (BM25's analyzer: stemming, case folding, stopwords)" },
    params: {
      type: 'object',
      additionalProperties: false,
      properties: {
        nprobe: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        efSearch: { type: 'integer', minimum: 1, maximum: 100_000 },
        refine: { type: 'integer', minimum: 0, maximum: 100_000 },
      },
    },
  },
} as const;

export const rollbackBody = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: { version: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export const EVAL_MODES = SEARCH_MODES.flatMap((m) => [m, `${m}+rerank`]);

export const evaluationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['dataset'],
  properties: {
    dataset: { type: 'string', minLength: 1, maxLength: 1024, description: 'a BEIR folder, relative to the server\'s datasets root' },
    split: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', maxLength: 64, default: 'test' },
    modes: { type: 'array', minItems: 1, maxItems: EVAL_MODES.length, uniqueItems: true, items: { type: 'string', enum: EVAL_MODES } },
    k: { type: 'integer', minimum: 1, maximum: 100 },
    limitQueries: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    ignoreIdenticalIds: { type: 'boolean' },
    model: modelRef,
    baseline: { type: 'boolean', description: "also record this run's nDCG@10 and Recall@100 as the baseline the alert rules compare against" },
  },
} as const;

// --- responses (for the OpenAPI document only) -----------------------------------------------

export const errorResponse = {
  type: 'object',
  description: 'every error: 400 invalid input, 401 no or unknown key, 403 scope or collection not allowed, 404 not found, 409 conflict, 413 too large, 503 not serving',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const scoresSchema = {
  type: 'object',
  required: ['vector', 'bm25', 'fused', 'rerank'],
  additionalProperties: false,
  properties: {
    vector: { type: 'number', nullable: true },
    bm25: { type: 'number', nullable: true },
    fused: { type: 'number', nullable: true },
    rerank: { type: 'number', nullable: true },
  },
} as const;

const highlightsSchema = {
  type: 'array',
  description: 'with `highlight: true`: [start, end) pairs of UTF-16 offsets into `text`, sorted, not overlapping',
  items: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
} as const;

const spanSchema = { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: { type: 'integer' }, end: { type: 'integer' } } } as const;

// Response objects name their required fields and are closed: quarry/client's types are derived
// from these schemas, and src/integrations/in-process.ts assigns the library's answer to them, so
// a field the library adds without adding it here fails to compile.
export const searchResult = {
  type: 'object',
  description: "a document (the default; the chunk fields are its best chunk's) or, with `chunks: true`, a chunk",
  required: ['rank', 'score', 'chunkId', 'docId', 'source', 'text', 'span', 'metadata', 'scores', 'lineage'],
  additionalProperties: false,
  properties: {
    rank: { type: 'integer' },
    score: { type: 'number' },
    chunkId: { type: 'string' },
    docId: { type: 'string' },
    source: { type: 'string' },
    locator: { type: 'string' },
    title: { type: 'string' },
    text: { type: 'string' },
    span: spanSchema,
    metadata: { type: 'object' },
    scores: scoresSchema,
    lineage: { type: 'object', required: ['contentHash', 'model', 'ingestedAt'], additionalProperties: false, properties: { contentHash: { type: 'string' }, model: { type: 'string' }, ingestedAt: { type: 'string' } } },
    highlights: highlightsSchema,
    passages: {
      type: 'array',
      description: "document results: the document's other matching chunks, best first (at most 3)",
      items: {
        type: 'object',
        required: ['chunkId', 'score', 'text', 'span', 'scores'],
        additionalProperties: false,
        properties: {
          chunkId: { type: 'string' },
          score: { type: 'number' },
          text: { type: 'string' },
          span: spanSchema,
          scores: scoresSchema,
          highlights: highlightsSchema,
        },
      },
    },
  },
} as const;

export const searchResponse = {
  type: 'object',
  description: 'the object `quarry search --json` prints; the X-Quarry-Version header names the version searched',
  required: ['query', 'collection', 'model', 'mode', 'unit', 'queryTruncated', 'results', 'stagesMs', 'tookMs'],
  additionalProperties: false,
  properties: {
    query: { type: 'string' },
    collection: { type: 'string' },
    model: { type: 'string' },
    mode: { type: 'string', enum: [...SEARCH_MODES] },
    unit: { type: 'string', enum: ['document', 'chunk'], description: 'what each result is' },
    reranker: { type: 'string' },
    queryTruncated: { type: 'boolean' },
    results: { type: 'array', items: searchResult },
    stagesMs: { type: 'object', additionalProperties: { type: 'number' } },
    tookMs: { type: 'number' },
  },
} as const;

// The answers below name the fields every answer carries (required): quarry/client's types
// and the web page's (src/web/types.ts) are derived from them.
const collectionState = { type: 'string', enum: ['loading', 'ready', 'refused', 'failed'] } as const;
const stateError = { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const integer = { type: 'integer' } as const;
const string = { type: 'string' } as const;

const chunkingSchema = {
  type: 'object',
  required: ['chunkTokens', 'overlapTokens'],
  additionalProperties: false,
  properties: { chunkTokens: { type: 'integer' }, overlapTokens: { type: 'integer' } },
} as const;

export const collectionSummary = {
  type: 'object',
  description: 'a collection that cannot be read has only name, state and error',
  required: ['name', 'state'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    createdAt: { type: 'string' },
    model: { type: 'string' },
    chunking: chunkingSchema,
    index: indexSettings,
    documents: { type: 'integer' },
    chunks: { type: 'integer' },
    version: { type: 'integer' },
    state: collectionState,
    error: stateError,
  },
} as const;

/** A model's identity as the collection stores it (src/embed/identity.ts). */
const modelIdentity = {
  type: 'object',
  required: ['id', 'variant', 'revision', 'source', 'weightsSha256', 'tokenizerSha256', 'dims', 'pooling', 'normalize', 'maxSeqLength', 'queryPrefix'],
  additionalProperties: false,
  properties: {
    id: string,
    variant: string,
    revision: string,
    source: string,
    weightsSha256: string,
    tokenizerSha256: string,
    dims: integer,
    pooling: string,
    normalize: { type: 'boolean' },
    maxSeqLength: integer,
    queryPrefix: string,
  },
} as const;

/** The approximate index as built (src/store/collection-index.ts AnnState). */
const annState = {
  type: 'object',
  description: 'the approximate index as built: measured recall@10 (null before it was measured), the exact search standing in before it is trained (fallback)',
  required: ['type', 'params', 'generation', 'fallback', 'builtAt', 'recallAt10', 'recallQueries', 'vectors', 'memoryBytes'],
  additionalProperties: false,
  properties: {
    type: indexSettings.properties.type,
    params: indexSettings.properties.params,
    generation: integer,
    fallback: { type: 'string', nullable: true },
    builtAt: string,
    recallAt10: { type: 'number', nullable: true },
    recallQueries: integer,
    vectors: integer,
    memoryBytes: integer,
    recallMeasured: {
      type: 'object',
      description: 'when recall was measured: the version and the index size then (kept until a tenth of the vectors changed)',
      required: ['generation', 'vectors', 'at'],
      additionalProperties: false,
      properties: { generation: integer, vectors: integer, at: string },
    },
    changedSinceRecall: { ...integer, description: 'vectors added or removed since recall was measured' },
    pendingChanges: { ...integer, description: 'chunks that entered or left the live set after the saved file (readers add them on load)' },
  },
} as const;

export const collectionInfoResponse = {
  type: 'object',
  description: '`quarry info --json` (without the folder path), the serving state, and the memory the warm indexes take (null while not serving)',
  required: ['collection', 'createdAt', 'documents', 'chunks', 'model', 'fingerprint', 'chunking', 'index', 'ann', 'lexical', 'version', 'disk', 'memory', 'state'],
  additionalProperties: false,
  properties: {
    collection: string,
    createdAt: string,
    documents: integer,
    chunks: integer,
    model: modelIdentity,
    fingerprint: { type: 'object', required: ['probeSet', 'probes'], additionalProperties: false, properties: { probeSet: string, probes: integer } },
    chunking: chunkingSchema,
    index: { type: 'object', required: ['type', 'vectors'], additionalProperties: false, properties: { ...indexSettings.properties, vectors: integer } },
    ann: {
      ...annState,
      required: [...annState.required, 'recallFloor'],
      properties: { ...annState.properties, recallFloor: { type: 'number' } },
    },
    lexical: {
      type: 'object',
      nullable: true,
      description: 'the BM25 index as last saved; null until a write built it',
      required: ['analyzer', 'generation', 'documents', 'terms', 'builtAt'],
      additionalProperties: false,
      properties: { analyzer: string, generation: integer, documents: integer, terms: integer, builtAt: string, pendingChanges: integer },
    },
    version: integer,
    disk: { type: 'object', required: ['totalBytes', 'vectorBytes', 'metadataBytes'], additionalProperties: false, properties: { totalBytes: integer, vectorBytes: integer, metadataBytes: integer } },
    memory: { type: 'object', required: ['bytes'], additionalProperties: false, properties: { bytes: { type: 'integer', nullable: true } } },
    state: collectionState,
    error: stateError,
  },
} as const;

export const indexReport = {
  type: 'object',
  description: 'documentsAdded/Updated/Unchanged, chunksWritten, cacheHits, chunksEmbedded, the version written (generation), notes and problems',
} as const;

export const versionInfo = {
  type: 'object',
  required: ['version', 'current', 'createdAt', 'kind', 'note', 'documents', 'chunks', 'model', 'index'],
  additionalProperties: false,
  properties: {
    version: { type: 'integer' },
    current: { type: 'boolean' },
    createdAt: { type: 'string' },
    kind: { type: 'string' },
    note: { type: 'string' },
    documents: { type: 'integer' },
    chunks: { type: 'integer' },
    model: { type: 'string' },
    index: { type: 'object' },
  },
} as const;

export const readinessResponse = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    collections: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          state: collectionState,
          version: { type: 'integer' },
          model: { type: 'string' },
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;

const number = { type: 'number' } as const;

const gateRow = {
  type: 'object',
  required: ['generation', 'model', 'ndcg@10', 'recall@100'],
  additionalProperties: false,
  properties: { generation: integer, model: string, 'ndcg@10': number, 'recall@100': number },
} as const;

/** A promotion gate's outcome: both generations on the collection's held-out judgments. */
export const gateResult = {
  type: 'object',
  required: ['at', 'mode', 'queries', 'tolerance', 'live', 'shadow', 'passed', 'forced'],
  additionalProperties: false,
  properties: { at: string, mode: string, queries: integer, tolerance: number, live: gateRow, shadow: gateRow, passed: { type: 'boolean' }, forced: { type: 'boolean' } },
} as const;

const generationEntry = {
  type: 'object',
  required: ['id', 'dir', 'state', 'createdAt', 'model', 'chunking', 'index'],
  additionalProperties: false,
  properties: {
    id: integer,
    dir: { type: 'string', description: "the generation's folder inside the data folder" },
    state: { type: 'string', enum: ['building', 'shadow', 'live', 'retired', 'failed'] },
    createdAt: string,
    model: string,
    chunking: chunkingSchema,
    index: indexSettings,
    promotedAt: string,
    retiredAt: string,
    build: {
      type: 'object',
      description: "the last reindex report's figures",
      required: ['documents', 'chunks', 'cacheHits', 'chunksEmbedded', 'elapsedMs'],
      additionalProperties: false,
      properties: { documents: integer, chunks: integer, cacheHits: integer, chunksEmbedded: integer, elapsedMs: number },
    },
    gate: gateResult,
    note: string,
  },
} as const;

export const reindexJob = {
  type: 'object',
  description: 'a reindex running in the background, or its outcome (report or error)',
  required: ['collection', 'status', 'startedAt'],
  additionalProperties: false,
  properties: {
    collection: string,
    status: { type: 'string', enum: ['running', 'done', 'failed'] },
    startedAt: string,
    finishedAt: string,
    progress: {
      type: 'object',
      required: ['bytesDone', 'bytesTotal', 'documents', 'chunks'],
      additionalProperties: false,
      properties: { bytesDone: integer, bytesTotal: integer, documents: integer, chunks: integer },
    },
    report: {
      type: 'object',
      description: 'the object `quarry reindex --json` prints',
      required: ['collection', 'generation', 'live', 'model', 'chunking', 'index', 'documents', 'chunks', 'cacheHits', 'chunksEmbedded', 'cacheHitRate', 'replacedShadow', 'ann', 'notes', 'elapsedMs'],
      additionalProperties: false,
      properties: {
        collection: string,
        generation: integer,
        live: integer,
        model: string,
        chunking: chunkingSchema,
        index: indexSettings,
        documents: integer,
        chunks: integer,
        cacheHits: integer,
        chunksEmbedded: integer,
        cacheHitRate: number,
        replacedShadow: { type: 'integer', nullable: true },
        ann: { ...annState, nullable: true },
        notes: { type: 'array', items: string },
        elapsedMs: number,
      },
    },
    error: stateError,
  },
} as const;

/** POST /collections/{name}/generations: the job started. */
export const reindexAccepted = { type: 'object', required: ['reindex'], additionalProperties: false, properties: { reindex: reindexJob } } as const;

export const generationsResponse = {
  type: 'object',
  description: 'the deployment file (which generation is live, the shadow, those kept for rollback), the last reindex job and what the canary compared',
  required: ['format', 'collection', 'live', 'shadow', 'previous', 'retention', 'nextGeneration', 'generations', 'reindex', 'canary'],
  additionalProperties: false,
  properties: {
    format: string,
    collection: string,
    live: integer,
    shadow: { type: 'integer', nullable: true },
    previous: { type: 'array', items: integer, description: 'generations that were live before, oldest first: rollback returns to the last' },
    retention: integer,
    nextGeneration: integer,
    generations: { type: 'array', items: generationEntry },
    reindex: { ...reindexJob, nullable: true },
    canary: {
      type: 'object',
      nullable: true,
      description: "what the canary has seen of the shadow: searches compared with live, their mean overlap@10 and top-1 score shift",
      required: ['shadow', 'compared', 'failed', 'meanOverlapAt10', 'meanTop1ScoreShift'],
      additionalProperties: false,
      properties: { shadow: integer, compared: integer, failed: integer, meanOverlapAt10: { type: 'number', nullable: true }, meanTop1ScoreShift: { type: 'number', nullable: true } },
    },
  },
} as const;

/** POST promote and generations/rollback: the generation now live and the one before. */
export const switchReport = {
  type: 'object',
  required: ['collection', 'live', 'previous', 'model', 'gate', 'forced', 'caughtUp'],
  additionalProperties: false,
  properties: {
    collection: string,
    live: integer,
    previous: integer,
    model: string,
    gate: { ...gateResult, nullable: true },
    forced: { type: 'boolean' },
    caughtUp: {
      type: 'object',
      description: 'documents the new live generation took over from the old one just before the switch',
      required: ['documentsWritten', 'documentsRemoved'],
      additionalProperties: false,
      properties: { documentsWritten: integer, documentsRemoved: integer },
    },
  },
} as const;

export const evaluationJob = {
  type: 'object',
  required: ['id', 'collection', 'status', 'startedAt'],
  properties: {
    id: { type: 'string' },
    collection: { type: 'string' },
    status: { type: 'string', enum: ['running', 'done', 'failed'] },
    startedAt: { type: 'string' },
    finishedAt: { type: 'string' },
    report: { type: 'object', description: 'the object `quarry eval --json` prints' },
    error: errorResponse.properties.error,
  },
} as const;


export const sessionResponse = {
  type: 'object',
  description: 'the key that made the request (never its secret): what it may do and where',
  required: ['keyId', 'scope', 'collections', 'createdAt'],
  properties: {
    keyId: { type: 'string' },
    scope: { type: 'string', enum: ['read', 'write', 'admin', 'metrics'] },
    collections: { type: 'array', items: { type: 'string' }, description: 'collection names, or ["*"] for all' },
    label: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;

const latencySummary = {
  type: 'object',
  required: ['count', 'p50', 'p95', 'p99', 'max'],
  additionalProperties: false,
  properties: {
    count: { type: 'integer' },
    p50: { type: 'number', nullable: true },
    p95: { type: 'number', nullable: true },
    p99: { type: 'number', nullable: true },
    max: { type: 'number', nullable: true },
  },
} as const;

export const latencyStatsResponse = {
  type: 'object',
  description: 'milliseconds from the search request\'s start to its answer, over the most recent searches (at most window.maxSamples, none older than window.maxAgeSeconds), since this server started',
  required: ['collection', 'window', 'searches', 'overall', 'modes'],
  additionalProperties: false,
  properties: {
    collection: { type: 'string' },
    window: { type: 'object', required: ['maxSamples', 'maxAgeSeconds'], additionalProperties: false, properties: { maxSamples: { type: 'integer' }, maxAgeSeconds: { type: 'number' } } },
    searches: { type: 'object', required: ['total', 'inWindow'], additionalProperties: false, properties: { total: { type: 'integer' }, inWindow: { type: 'integer' } } },
    overall: latencySummary,
    modes: { type: 'object', description: 'by mode (vector, bm25, hybrid, each optionally +rerank)', additionalProperties: latencySummary },
  },
} as const;

export const evaluationHistoryResponse = {
  type: 'object',
  required: ['collection', 'evaluations', 'skipped'],
  properties: {
    collection: { type: 'string' },
    evaluations: {
      type: 'array',
      description: 'every finished evaluation run, oldest first',
      items: {
        type: 'object',
        required: ['at', 'dataset', 'split', 'queries', 'k', 'model', 'modes'],
        additionalProperties: false,
        properties: {
          at: { type: 'string' },
          job: { type: 'string' },
          dataset: { type: 'string' },
          split: { type: 'string' },
          queries: { type: 'integer' },
          k: { type: 'integer' },
          model: { type: 'string' },
          documents: { type: 'integer' },
          chunks: { type: 'integer' },
          reranker: { type: 'string' },
          command: { type: 'string', description: 'the command line that ran it (`quarry eval ...`); absent for runs over HTTP' },
          modes: {
            type: 'array',
            items: {
              type: 'object',
              required: ['mode', 'metrics', 'latencyMs'],
              additionalProperties: false,
              properties: {
                mode: { type: 'string' },
                metrics: { type: 'object', description: 'ndcg@k, mrr@k, p@k, recall@100', additionalProperties: { type: 'number' } },
                latencyMs: { type: 'object', required: ['p50', 'p99'], additionalProperties: false, properties: { p50: { type: 'number' }, p99: { type: 'number' } } },
              },
            },
          },
        },
      },
    },
    skipped: { type: 'integer', description: 'lines of the history file that could not be read (a record torn by a crash)' },
  },
} as const;

export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    action: { type: 'string', enum: [...AUDIT_ACTIONS] },
    target: { type: 'string', minLength: 1, maxLength: 256, description: 'a collection name, or key:<id>' },
    since: { type: 'string', maxLength: 64, description: 'ISO 8601 date or time: entries at or after it' },
    // query strings are strings, and the server never coerces types: a decimal 1-10000
    limit: { type: 'string', pattern: '^(10000|[1-9][0-9]{0,3})$', description: 'the newest N entries that match (1-10000, default 1000)' },
  },
} as const;

const auditEntry = {
  type: 'object',
  properties: {
    time: { type: 'string' },
    actor: { type: 'string', description: 'key:<id> over HTTP, local:<os user> from the command line' },
    action: { type: 'string', enum: [...AUDIT_ACTIONS] },
    target: { type: 'string' },
    outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
    forced: { type: 'boolean' },
    detail: { type: 'object' },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

export const auditResponse = {
  type: 'object',
  description: 'entries oldest first; a key limited to some collections sees only entries about them',
  properties: {
    entries: { type: 'array', items: auditEntry },
    problems: {
      type: 'array',
      description: 'lines of the log that could not be read (a torn last line after a crash)',
      items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } },
    },
  },
} as const;
