/**
 * What a collection's storage must do, with no file paths or SQL in it: the seam between
 * everything above storage (chunking, embedding, fusion, rerank, gates, evaluation, the
 * server) and a backend that keeps collections (the local data directory today; a cluster
 * next). Every backend runs the same conformance suite (tests/support/store-conformance.ts).
 *
 *   Store             where collections live: list, create, open a reader or writer, drop
 *   CollectionReader  one collection pinned to one version: vector and lexical search with
 *                     filter push-down, chunk rows, identifier lookup, the tier-2 cache
 *   CollectionWriter  the single writer: batches committed atomically under a new version,
 *                     delete, rollback, compaction, the embedding cache
 *
 * Versions: every write operation (an index run, a delete, a rollback) becomes one version
 * when it commits; a reader sees exactly the version it pinned, never a running writer's rows.
 */
import type { SearchParams, VectorHit } from '../index/vector-index.js';
import type { Bm25Params } from '../lexical/bm25-index.js';
import type { FilterNode } from '../retrieve/filter/tree.js';
import type { CollectionManifest } from './manifest.js';

/** A filter compiled by the store that runs it (opaque above the seam). */
export interface PreparedFilter {
  readonly tree: FilterNode;
}

/** One chunk as a search result needs it: its text, span and its document's metadata and lineage. */
export interface ChunkRecord {
  id: number;
  docId: string;
  docVersion: number;
  seq: number;
  text: string;
  start: number;
  end: number;
  source: string;
  locator: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  contentHash: string;
  embeddedWith: string;
  ingestedAt: string;
}

/** One kept version: what a write operation committed. */
export interface VersionRecord {
  id: number;
  createdAt: string;
  kind: string;
  note: string;
  documents: number;
  chunks: number;
  model: string;
  indexSettings: string;
}

export interface VectorSearchOptions {
  filter?: PreparedFilter;
  params?: SearchParams;
}

export interface LexicalSearchOptions {
  filter?: PreparedFilter;
  bm25?: Bm25Params;
}

/** Tier-2 vectors of passages, by the hash of what tier 2 read; kept beside the collection. */
export interface Tier2Store {
  get(model: string, hashes: readonly string[]): Map<string, Float32Array>;
  put(model: string, entries: ReadonlyArray<readonly [string, Float32Array]>): void;
}

export interface CollectionReader {
  readonly name: string;
  readonly manifest: CollectionManifest;
  /** The version this reader sees. */
  readonly version: number;
  /** Compiles a filter once; the result is used by every search of this query. */
  prepareFilter(tree: FilterNode): PreparedFilter;
  /** Chunk ids live in this version that a filter allows (empty: none). */
  filterChunks(filter: PreparedFilter): Promise<number[]>;
  /** Nearest chunks by inner product (cosine: vectors are unit length); a selective filter is searched exactly. */
  searchVectors(query: Float32Array, k: number, opts?: VectorSearchOptions): Promise<VectorHit[]>;
  /**
   * The inner product (cosine: vectors are unit length) of `query` with each of these chunks'
   * stored vectors, whatever any index would return: the cutoff's absolute signal for chunks
   * another retriever found. Unknown ids are left out.
   */
  similarities(query: Float32Array, ids: readonly number[]): Promise<Map<number, number>>;
  /** BM25 over the analyzed chunk text; `terms` come from the lexical analyzer. */
  searchLexical(terms: string[], k: number, opts?: LexicalSearchOptions): Promise<VectorHit[]>;
  /** Live chunks whose analyzed text holds `term` exactly (identifier pinning). */
  chunksHolding(term: string): Promise<Set<number>>;
  /** The chunk rows of these ids (live or not; unknown ids are left out), in no particular order. */
  chunks(ids: readonly number[]): Promise<ChunkRecord[]>;
  /** Loads what searches need now, so the first query pays no load time. */
  warm(what: { vector: boolean; lexical: boolean }): Promise<void>;
  /** Documents and chunks live in this version. */
  counts(): Promise<{ documents: number; chunks: number }>;
  /** The tier-2 cache, or null where this backend or location cannot keep one. */
  tier2(): Tier2Store | null;
  close(): Promise<void>;
}

/** A document made live by a write: its identity, provenance and lineage. */
export interface DocumentRecord {
  docId: string;
  version: number;
  source: string;
  locator: string | null;
  format: string;
  title: string | null;
  metadata: Record<string, unknown>;
  contentHash: string;
  byteLength: number;
  chunkCount: number;
  embeddedWith: string;
  chunking: string;
  ingestedAt: string;
}

/** A chunk to write, with its vector (or a reused one from the embedding cache). */
export interface NewChunk {
  docId: string;
  docVersion: number;
  seq: number;
  text: string;
  start: number;
  end: number;
  tokenCount: number;
  textHash: string;
  /** Hash of what the model read (model, prefix, text): the embedding cache's key. */
  embedHash: string;
  vector: Float32Array;
}

/** One batch, committed all-or-nothing: its chunks, and the documents whose every chunk is now written. */
export interface WriteBatch {
  chunks: NewChunk[];
  publish: DocumentRecord[];
  /** Sections of the published documents' normalized text, kept so a reindex can re-chunk them. */
  texts?: Array<{ docId: string; docVersion: number; seq: number; offset: number; text: string }>;
}

export interface CollectionWriter {
  readonly name: string;
  readonly manifest: CollectionManifest;
  /** The newest committed version. */
  head(): Promise<number>;
  /** Vectors already stored for these embed hashes (the embedding cache). */
  cachedVectors(embedHashes: readonly string[]): Promise<Map<string, Float32Array>>;
  /** The version a document id would get next, and its current live content hash if any. */
  documentState(docId: string): Promise<{ nextVersion: number; liveContentHash: string | null }>;
  /** Starts a write operation: its batches become one version at commit. */
  begin(): Promise<WriteTxn>;
  /** Makes the live set equal to an earlier version's, as a new version. */
  rollback(version: number): Promise<VersionRecord>;
  versions(): Promise<VersionRecord[]>;
  /** Reclaims space held by dead rows and rebuilds derived indexes. */
  compact(): Promise<{ bytesBefore: number; bytesAfter: number }>;
  close(): Promise<void>;
}

export interface WriteTxn {
  readonly version: number;
  /** Writes a batch atomically (all its chunks and publications, or none). */
  write(batch: WriteBatch): Promise<void>;
  /** Takes documents out of the live set; returns those that were live. */
  remove(docIds: readonly string[]): Promise<string[]>;
  /** Seals the version and brings derived indexes in step; a write that changed nothing makes none. */
  commit(kind: string, note: string): Promise<VersionRecord | null>;
}

export interface Store {
  /** Where the collections live (a data directory, or a cluster URL), for messages. */
  readonly location: string;
  list(): Promise<string[]>;
  exists(name: string): Promise<boolean>;
  /** The collection's manifest (model, chunking, index), read without opening its data: a model check comes first. */
  manifest(name: string): Promise<CollectionManifest>;
  create(name: string, manifest: CollectionManifest): Promise<CollectionWriter>;
  /** A reader pinned to the newest version (or `version`, when still kept). */
  openReader(name: string, opts?: { version?: number }): Promise<CollectionReader>;
  openWriter(name: string): Promise<CollectionWriter>;
  drop(name: string): Promise<void>;
}
