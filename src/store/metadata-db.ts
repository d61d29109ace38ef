import { SqliteDb } from './sqlite.js';
import { CollectionCorruptError } from '../errors.js';
import type { SegmentRecord } from './vector-segments.js';

/** What to do about a damaged meta.sqlite: it holds the text and lineage nothing else can rebuild. */
export const SOURCE_OF_TRUTH_REMEDY =
  'meta.sqlite is the source of truth (text, metadata, versions) and cannot be rebuilt from the other files: restore the collection folder from a backup, or index the sources again into a new collection';

/** SQLite's result codes for a file whose pages are not a valid database. */
function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Every corruption error (SQLITE_CORRUPT, SQLITE_NOTADB) as CollectionCorruptError naming meta.sqlite. */
function corruptionAsDamage(path: string, collection: string): (e: Error & { code?: string }) => unknown {
  // a damaged page met by any query, anywhere (a search, check, a write), reads as damage
  // (exit 5, HTTP 503), never as a bug
  return (e) =>
    isCorruption(e)
      ? new CollectionCorruptError(collection, `meta.sqlite is damaged (SQLite: ${e.message})`, { file: path, remedy: SOURCE_OF_TRUTH_REMEDY })
      : e;
}

/**
 * Chunk text, metadata, lineage and versions in SQLite (through store/sqlite.ts): real transactions
 * make each ingest batch all-or-nothing, and WAL mode lets readers search while a writer
 * commits.
 *
 * Versions are kept as validity intervals (MVCC): a document version is live in generation g
 * when one of its `doc_live` rows has from_gen <= g < to_gen (to_gen NULL = still live). A
 * write operation (an index run, a delete, a rollback) works under the next generation number
 * and seals it with a `generations` row when it ends; rows it committed before a crash are
 * live already (every acknowledged document survives) and the generation is sealed as
 * "recovered" on the next write-open. Rolling back adds a generation whose live set equals an
 * earlier one, so history is never rewritten; gc drops generations beyond the retention count.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS generations (
  id          INTEGER PRIMARY KEY,
  created_at  TEXT NOT NULL,
  kind        TEXT NOT NULL,
  note        TEXT NOT NULL,
  documents   INTEGER NOT NULL,
  chunks      INTEGER NOT NULL,
  model       TEXT NOT NULL,
  index_settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_versions (
  doc_id        TEXT NOT NULL,
  version       INTEGER NOT NULL,
  source        TEXT NOT NULL,
  locator       TEXT,
  format        TEXT NOT NULL,
  title         TEXT,
  metadata      TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  byte_length   INTEGER NOT NULL,
  chunk_count   INTEGER NOT NULL,
  embedded_with TEXT NOT NULL,
  chunking      TEXT NOT NULL,
  ingested_at   TEXT NOT NULL,
  PRIMARY KEY (doc_id, version)
);
CREATE TABLE IF NOT EXISTS doc_live (
  doc_id   TEXT NOT NULL,
  version  INTEGER NOT NULL,
  from_gen INTEGER NOT NULL,
  to_gen   INTEGER
);
CREATE INDEX IF NOT EXISTS doc_live_open ON doc_live(doc_id) WHERE to_gen IS NULL;
CREATE INDEX IF NOT EXISTS doc_live_by_doc ON doc_live(doc_id, version);
CREATE INDEX IF NOT EXISTS doc_live_from ON doc_live(from_gen);
CREATE INDEX IF NOT EXISTS doc_live_to ON doc_live(to_gen) WHERE to_gen IS NOT NULL;
CREATE TABLE IF NOT EXISTS chunks (
  id           INTEGER PRIMARY KEY,
  doc_id       TEXT NOT NULL,
  doc_version  INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  text         TEXT NOT NULL,
  start        INTEGER NOT NULL,
  end          INTEGER NOT NULL,
  token_count  INTEGER NOT NULL,
  text_hash    TEXT NOT NULL,
  embed_hash   TEXT NOT NULL,
  segment      INTEGER NOT NULL,
  row          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, doc_version);
CREATE INDEX IF NOT EXISTS chunks_by_embed_hash ON chunks(embed_hash);
CREATE TABLE IF NOT EXISTS doc_texts (
  doc_id      TEXT NOT NULL,
  doc_version INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  start       INTEGER NOT NULL,
  text        TEXT NOT NULL,
  PRIMARY KEY (doc_id, doc_version, seq)
);
CREATE TABLE IF NOT EXISTS segments (
  id         INTEGER PRIMARY KEY,
  file       TEXT NOT NULL UNIQUE,
  count      INTEGER NOT NULL,
  dims       INTEGER NOT NULL,
  sha256     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  retired_at TEXT
);
`;

export interface DocumentRow {
  doc_id: string;
  version: number;
  source: string;
  locator: string | null;
  format: string;
  title: string | null;
  metadata: string;
  content_hash: string;
  byte_length: number;
  chunk_count: number;
  embedded_with: string;
  chunking: string;
  ingested_at: string;
}

export interface ChunkRow {
  id: number;
  doc_id: string;
  doc_version: number;
  seq: number;
  text: string;
  start: number;
  end: number;
  token_count: number;
  text_hash: string;
  embed_hash: string;
  segment: number;
  row: number;
}

export type NewChunkRow = Omit<ChunkRow, 'id'>;

/** One section of a document version's normalized text. */
export interface DocTextRow {
  doc_id: string;
  doc_version: number;
  seq: number;
  offset: number;
  text: string;
}

export interface VectorRef {
  id: number;
  segment: number;
  row: number;
}

export interface GenerationRow {
  id: number;
  created_at: string;
  kind: string;
  note: string;
  documents: number;
  chunks: number;
  model: string;
  index_settings: string;
}

export type HydratedChunk = ChunkRow & {
  source: string;
  title: string | null;
  metadata: string;
  content_hash: string;
  embedded_with: string;
  ingested_at: string;
  locator: string | null;
};

/** Rows a write-open's orphan check may find above its mark before it moves the mark up. */
const MARK_STRIDE = 4096;
/** Live at head: an open interval. */
const LIVE = 'l.to_gen IS NULL';
/** Live in generation ?: the interval contains it. */
const LIVE_AT = 'l.from_gen <= @gen AND (l.to_gen IS NULL OR l.to_gen > @gen)';

export class MetadataDb {
  readonly db: SqliteDb;

  constructor(
    readonly path: string,
    readonly: boolean,
    /** The collection it belongs to, named by the errors it raises. */
    readonly collection = 'unknown',
  ) {
    this.db = new SqliteDb(path, { readonly, mapError: corruptionAsDamage(path, collection) });
    // SQLite reads lazily: read the header now, so a file that is not a database fails here, at
    // open. Through SQLite, never by opening the file ourselves: closing any descriptor of it
    // would drop the POSIX locks of every connection this process has on it (see
    // tests/sqlite-locks.test.ts).
    this.db.pragma('schema_version');
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    }
    this.db.pragma('busy_timeout = 5000');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /**
   * SQLite's quick_check: every page's structure (not index-to-table agreement, which
   * integrity_check adds), O(size of the file). Throws CollectionCorruptError on a finding.
   */
  quickCheck(collection = this.collection): void {
    const rows = this.db.pragma('quick_check') as Array<{ quick_check: string }>;
    if (rows.length !== 1 || rows[0].quick_check !== 'ok') {
      throw new CollectionCorruptError(collection, `meta.sqlite fails SQLite's quick_check: ${rows.map((r) => r.quick_check).slice(0, 3).join('; ')}`, {
        file: this.path,
        remedy: SOURCE_OF_TRUTH_REMEDY,
      });
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  /** Runs `fn` in one read transaction: every query inside sees the same committed state. */
  snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  // --- state -----------------------------------------------------------------------------

  getState(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM state WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setState(key: string, value: string): void {
    this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Whether the changes after generation `since` can still be told (changesSince): gc drops
   * the intervals that ended before the oldest version it keeps, so a saved index file older
   * than that cannot be caught up and is rebuilt instead.
   */
  canTellChangesSince(since: number): boolean {
    return since >= (this.db.prepare('SELECT COALESCE(MIN(id), 0) AS n FROM generations').get() as { n: number }).n;
  }

  /** The newest sealed generation (0 for a collection never written). */
  head(): number {
    return Number(this.getState('head') ?? 0);
  }

  /** The generation an unfinished write operation works under, if one was interrupted. */
  pendingGeneration(): number | undefined {
    const v = this.getState('pending');
    return v === undefined ? undefined : Number(v);
  }

  beginGeneration(): number {
    const g = this.head() + 1;
    this.setState('pending', String(g));
    return g;
  }

  sealGeneration(g: Omit<GenerationRow, 'documents' | 'chunks'>): GenerationRow {
    const counts = this.countsAfter(g.id);
    const row: GenerationRow = { ...g, documents: counts.documents, chunks: counts.chunks };
    this.db
      .prepare(
        'INSERT INTO generations (id, created_at, kind, note, documents, chunks, model, index_settings) VALUES (@id, @created_at, @kind, @note, @documents, @chunks, @model, @index_settings)',
      )
      .run(row);
    this.setState('head', String(g.id));
    this.db.prepare("DELETE FROM state WHERE key = 'pending'").run();
    return row;
  }

  /**
   * The live set's size once generation `g` (the pending one, head + 1) is sealed: the head's
   * recorded counts plus what entered and minus what left under `g`, found through the
   * from_gen / to_gen indexes, so sealing a one-document write does not count the whole
   * collection. Counted in full when the head's row is not there to start from.
   */
  private countsAfter(g: number): { documents: number; chunks: number } {
    const head = this.head();
    const base = head === 0 ? { documents: 0, chunks: 0 } : this.getGeneration(head);
    if (!base || g !== head + 1) return this.counts();
    const delta = (where: string) =>
      this.db
        .prepare(
          `SELECT COUNT(DISTINCT l.rowid) AS documents, COUNT(c.id) AS chunks FROM doc_live l
           LEFT JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version WHERE ${where}`,
        )
        .get(g) as { documents: number; chunks: number };
    // an interval opened under g is still open (closing it under g deletes it: closeLive)
    const entered = delta('l.from_gen = ?');
    const left = delta('l.to_gen = ?');
    return { documents: base.documents + entered.documents - left.documents, chunks: base.chunks + entered.chunks - left.chunks };
  }

  /** Whether any document entered or left the live set under generation `g`. */
  touchedGeneration(g: number): boolean {
    return !!this.db.prepare('SELECT 1 FROM doc_live WHERE from_gen = ? OR to_gen = ? LIMIT 1').get(g, g);
  }

  clearPending(): void {
    this.db.prepare("DELETE FROM state WHERE key = 'pending'").run();
  }

  generations(): GenerationRow[] {
    return this.db.prepare('SELECT * FROM generations ORDER BY id').all() as GenerationRow[];
  }

  getGeneration(id: number): GenerationRow | undefined {
    return this.db.prepare('SELECT * FROM generations WHERE id = ?').get(id) as GenerationRow | undefined;
  }

  // --- documents ---------------------------------------------------------------------------

  /** The live version of a document, if any. */
  getDocument(docId: string): DocumentRow | undefined {
    return this.db
      .prepare(`SELECT d.* FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version WHERE l.doc_id = ? AND ${LIVE}`)
      .get(docId) as DocumentRow | undefined;
  }

  /** A version number never used before for this document (even by a crashed write). */
  nextDocVersion(docId: string): number {
    const key = `v:${docId}`;
    const used = Math.max(
      Number(this.getState(key) ?? 0),
      (this.db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM doc_versions WHERE doc_id = ?').get(docId) as { v: number }).v,
      (this.db.prepare('SELECT COALESCE(MAX(doc_version), 0) AS v FROM chunks WHERE doc_id = ?').get(docId) as { v: number }).v,
    );
    this.setState(key, String(used + 1));
    return used + 1;
  }

  /** Makes `doc` the live version of its document in generation `gen`. */
  publishDocument(doc: DocumentRow, gen: number): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO doc_versions (doc_id, version, source, locator, format, title, metadata, content_hash, byte_length,
                                chunk_count, embedded_with, chunking, ingested_at)
         VALUES (@doc_id, @version, @source, @locator, @format, @title, @metadata, @content_hash, @byte_length,
                 @chunk_count, @embedded_with, @chunking, @ingested_at)`,
      )
      .run(doc);
    this.closeLive(doc.doc_id, gen);
    this.db.prepare('INSERT INTO doc_live (doc_id, version, from_gen, to_gen) VALUES (?, ?, ?, NULL)').run(doc.doc_id, doc.version, gen);
  }

  /** Ends the live interval of a document in generation `gen`; returns whether it was live. */
  closeLive(docId: string, gen: number): boolean {
    const open = this.db.prepare('SELECT rowid, from_gen FROM doc_live WHERE doc_id = ? AND to_gen IS NULL').all(docId) as Array<{ rowid: number; from_gen: number }>;
    for (const o of open) {
      // An interval opened and closed within the same generation was never visible in a sealed one.
      if (o.from_gen >= gen) this.db.prepare('DELETE FROM doc_live WHERE rowid = ?').run(o.rowid);
      else this.db.prepare('UPDATE doc_live SET to_gen = ? WHERE rowid = ?').run(gen, o.rowid);
    }
    return open.length > 0;
  }

  // --- chunks and vectors ------------------------------------------------------------------

  insertChunks(rows: NewChunkRow[]): number[] {
    const stmt = this.db.prepare(
      `INSERT INTO chunks (doc_id, doc_version, seq, text, start, end, token_count, text_hash, embed_hash, segment, row)
       VALUES (@doc_id, @doc_version, @seq, @text, @start, @end, @token_count, @text_hash, @embed_hash, @segment, @row)`,
    );
    return rows.map((r) => Number(stmt.run(r).lastInsertRowid));
  }

  /** Stores a document version's normalized text, section by section (a reindex re-chunks it). */
  insertDocTexts(rows: DocTextRow[]): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO doc_texts (doc_id, doc_version, seq, start, text) VALUES (@doc_id, @doc_version, @seq, @offset, @text)');
    for (const r of rows) stmt.run(r);
  }

  /**
   * A document version's normalized text as sections, in order; null when it was written
   * before quarry kept the text (or by a crashed write), see Collection.documentSections.
   */
  docTexts(docId: string, version: number): Array<{ offset: number; text: string }> | null {
    if (!this.hasTable('doc_texts')) return null;
    const rows = this.db.prepare('SELECT start AS offset, text FROM doc_texts WHERE doc_id = ? AND doc_version = ? ORDER BY seq').all(docId, version) as Array<{
      offset: number;
      text: string;
    }>;
    return rows.length > 0 ? rows : null;
  }

  /** A document version's chunks in order (their text and spans). */
  docChunks(docId: string, version: number): Array<{ text: string; start: number; end: number }> {
    return this.db.prepare('SELECT text, start, end FROM chunks WHERE doc_id = ? AND doc_version = ? ORDER BY seq').all(docId, version) as Array<{
      text: string;
      start: number;
      end: number;
    }>;
  }

  /** Every live document row (at head, or in generation `gen`), by id. */
  liveDocuments(gen?: number): DocumentRow[] {
    const where = gen === undefined ? LIVE : LIVE_AT;
    return this.db
      .prepare(`SELECT d.* FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version WHERE ${where} ORDER BY l.from_gen, l.rowid`)
      .all(gen === undefined ? {} : { gen }) as DocumentRow[];
  }

  private hasTable(name: string): boolean {
    return !!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
  }

  /** Where an identical embedding input already has a vector (the embedding cache). */
  cachedVector(embedHash: string): { segment: number; row: number } | undefined {
    return this.db.prepare('SELECT segment, row FROM chunks WHERE embed_hash = ? LIMIT 1').get(embedHash) as
      | { segment: number; row: number }
      | undefined;
  }

  insertSegment(seg: Omit<SegmentRecord, 'id'>): number {
    const info = this.db
      .prepare('INSERT INTO segments (file, count, dims, sha256, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(seg.file, seg.count, seg.dims, seg.sha256, new Date().toISOString());
    return Number(info.lastInsertRowid);
  }

  nextSegmentId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS n FROM segments').get() as { n: number }).n;
  }

  /** Segments in use (not retired by compaction). */
  segments(): SegmentRecord[] {
    return this.db.prepare('SELECT id, file, count, dims, sha256 FROM segments WHERE retired_at IS NULL ORDER BY id').all() as SegmentRecord[];
  }

  allSegmentFiles(): string[] {
    return (this.db.prepare('SELECT file FROM segments').all() as Array<{ file: string }>).map((r) => r.file);
  }

  /** Every chunk live at head (or in generation `gen`) with its vector location, by id. */
  liveVectorRefs(gen?: number): VectorRef[] {
    const where = gen === undefined ? LIVE : LIVE_AT;
    return this.db
      .prepare(
        `SELECT c.id, c.segment, c.row FROM doc_live l
         JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
         WHERE ${where} ORDER BY c.id`,
      )
      .all(gen === undefined ? {} : { gen }) as VectorRef[];
  }

  /**
   * Chunks that became live / stopped being live after generation `since` (index catch-up):
   * up to the live set at head (including a running writer's commits), or, given `upTo`, up
   * to the live set of that sealed generation exactly (a reader pinned to one version).
   */
  changesSince(since: number, upTo?: number): { added: VectorRef[]; removed: number[] } {
    // CROSS JOIN keeps doc_live outer, found through its from_gen / to_gen indexes: SQLite
    // would otherwise walk every chunk in id order to spare the sort of a few rows
    if (upTo === undefined) {
      const added = this.db
        .prepare(
          `SELECT c.id, c.segment, c.row FROM doc_live l CROSS JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
           WHERE l.to_gen IS NULL AND l.from_gen > ? ORDER BY c.id`,
        )
        .all(since) as VectorRef[];
      const removed = (
        this.db
          .prepare(
            `SELECT c.id FROM doc_live l JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
             WHERE l.to_gen IS NOT NULL AND l.to_gen > ? AND l.from_gen <= ?`,
          )
          .all(since, since) as Array<{ id: number }>
      ).map((r) => r.id);
      return { added, removed };
    }
    const added = this.db
      .prepare(
        `SELECT c.id, c.segment, c.row FROM doc_live l CROSS JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
         WHERE l.from_gen > @since AND l.from_gen <= @upTo AND (l.to_gen IS NULL OR l.to_gen > @upTo) ORDER BY c.id`,
      )
      .all({ since, upTo }) as VectorRef[];
    const removed = (
      this.db
        .prepare(
          `SELECT c.id FROM doc_live l JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
           WHERE l.from_gen <= @since AND l.to_gen IS NOT NULL AND l.to_gen > @since AND l.to_gen <= @upTo`,
        )
        .all({ since, upTo }) as Array<{ id: number }>
    ).map((r) => r.id);
    return { added, removed };
  }

  /** How many chunks entered or left the live set after generation `since` (at head). */
  changeCountSince(since: number): number {
    const count = (where: string) =>
      (this.db.prepare(`SELECT COUNT(*) AS n FROM doc_live l CROSS JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version WHERE ${where}`).get({ since }) as { n: number }).n;
    return count('l.to_gen IS NULL AND l.from_gen > @since') + count('l.to_gen IS NOT NULL AND l.to_gen > @since AND l.from_gen <= @since');
  }

  /** Vector locations of the given chunk ids. */
  vectorRefsOf(ids: number[]): VectorRef[] {
    const stmt = this.db.prepare('SELECT id, segment, row FROM chunks WHERE id = ?');
    return ids.map((id) => stmt.get(id)).filter((r) => r !== undefined) as VectorRef[];
  }

  /** Ids of chunks live at head (or in generation `gen`) whose document matches a compiled metadata filter. */
  liveChunkIdsWhere(sql: string, params: unknown[], gen?: number): number[] {
    if (gen !== undefined && !Number.isSafeInteger(gen)) throw new Error(`generation must be an integer, got ${gen}`);
    // the generation is an integer from quarry itself, inlined so the filter's positional parameters stay as they are
    const live = gen === undefined ? LIVE : `l.from_gen <= ${gen} AND (l.to_gen IS NULL OR l.to_gen > ${gen})`;
    return (
      this.db
        .prepare(
          `SELECT c.id FROM doc_live l
           JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version
           JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version
           WHERE ${live} AND (${sql})`,
        )
        .all(...params) as Array<{ id: number }>
    ).map((r) => r.id);
  }

  chunksWithDocuments(ids: number[]): HydratedChunk[] {
    if (ids.length === 0) return [];
    const stmt = this.db.prepare(
      `SELECT c.*, d.source, d.title, d.metadata, d.content_hash, d.embedded_with, d.ingested_at, d.locator
       FROM chunks c JOIN doc_versions d ON d.doc_id = c.doc_id AND d.version = c.doc_version WHERE c.id = ?`,
    );
    return ids.map((id) => stmt.get(id)).filter((r) => r !== undefined) as HydratedChunk[];
  }

  /** Live chunk id -> its document id. */
  liveChunkDocIds(): Map<number, string> {
    const rows = this.db
      .prepare(`SELECT c.id, c.doc_id FROM doc_live l JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version WHERE l.to_gen IS NULL`)
      .all() as Array<{ id: number; doc_id: string }>;
    return new Map(rows.map((r) => [r.id, r.doc_id]));
  }

  /** What the lexical index analyzes per chunk: its text and its document's title. */
  chunkTexts(ids: number[]): Array<{ id: number; title: string | null; text: string; text_hash: string }> {
    if (ids.length === 0) return [];
    const stmt = this.db.prepare(
      `SELECT c.id, d.title, c.text, c.text_hash FROM chunks c JOIN doc_versions d ON d.doc_id = c.doc_id AND d.version = c.doc_version WHERE c.id = ?`,
    );
    return ids.map((id) => stmt.get(id)).filter((r) => r !== undefined) as Array<{ id: number; title: string | null; text: string; text_hash: string }>;
  }

  counts(gen?: number): { documents: number; chunks: number } {
    const where = gen === undefined ? LIVE : LIVE_AT;
    const p = gen === undefined ? {} : { gen };
    const documents = (this.db.prepare(`SELECT COUNT(*) AS n FROM doc_live l WHERE ${where}`).get(p) as { n: number }).n;
    const chunks = (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM doc_live l JOIN chunks c ON c.doc_id = l.doc_id AND c.doc_version = l.version WHERE ${where}`)
        .get(p) as { n: number }
    ).n;
    return { documents, chunks };
  }

  /** doc_id -> version of every document live at head, or in generation `gen`. */
  liveDocs(gen?: number): Map<string, number> {
    const where = gen === undefined ? LIVE : LIVE_AT;
    const rows = this.db.prepare(`SELECT l.doc_id, l.version FROM doc_live l WHERE ${where}`).all(gen === undefined ? {} : { gen }) as Array<{
      doc_id: string;
      version: number;
    }>;
    return new Map(rows.map((r) => [r.doc_id, r.version]));
  }

  openLive(docId: string, version: number, gen: number): void {
    this.db.prepare('INSERT INTO doc_live (doc_id, version, from_gen, to_gen) VALUES (?, ?, ?, NULL)').run(docId, version, gen);
  }

  // --- recovery and garbage ----------------------------------------------------------------

  /**
   * Forgets generations older than `oldestKept`: intervals that ended by then, document
   * versions no interval refers to, their chunks, and the generation rows. Returns counts.
   */
  dropHistoryBefore(oldestKept: number): { generations: number; versions: number; chunks: number } {
    const generations = this.db.prepare('DELETE FROM generations WHERE id < ?').run(oldestKept).changes;
    this.db.prepare('DELETE FROM doc_live WHERE to_gen IS NOT NULL AND to_gen <= ?').run(oldestKept);
    const versions = this.db
      .prepare(
        `DELETE FROM doc_versions WHERE NOT EXISTS (
           SELECT 1 FROM doc_live l WHERE l.doc_id = doc_versions.doc_id AND l.version = doc_versions.version)`,
      )
      .run().changes;
    const chunks = this.removeOrphanChunks({ all: true });
    return { generations, versions, chunks };
  }

  /**
   * Removes chunk rows no document version owns: left by a write that crashed before it
   * published the document. Their versions were never live anywhere.
   *
   * Such rows are only ever new ones (a write's unpublished chunks) or the ones gc's history
   * drop leaves, which passes `all`. So a write's recovery checks only the rows added since the
   * last pass (the 'orphans-checked' mark: the highest chunk and text rowids then), which
   * keeps opening a large collection for a one-document write from scanning every chunk.
   */
  removeOrphanChunks(opts: { all?: boolean } = {}): number {
    const mark = opts.all ? null : (JSON.parse(this.getState('orphans-checked') ?? 'null') as { chunks: number; texts: number } | null);
    const texts = this.db
      .prepare(
        `DELETE FROM doc_texts WHERE rowid > ? AND NOT EXISTS (
           SELECT 1 FROM doc_versions d WHERE d.doc_id = doc_texts.doc_id AND d.version = doc_texts.doc_version)`,
      )
      .run(mark?.texts ?? 0).changes;
    const removed = this.db
      .prepare(
        `DELETE FROM chunks WHERE id > ? AND NOT EXISTS (
           SELECT 1 FROM doc_versions d WHERE d.doc_id = chunks.doc_id AND d.version = chunks.doc_version)`,
      )
      .run(mark?.chunks ?? 0).changes;
    // after the deletes: a rowid freed at the top is reused by the next insert, above the mark
    const top = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    const next = { chunks: top('SELECT COALESCE(MAX(id), 0) AS n FROM chunks'), texts: top('SELECT COALESCE(MAX(rowid), 0) AS n FROM doc_texts') };
    // moved only when something was deleted or the rows above it grew many: a write-open that
    // found nothing then writes nothing (no commit to wait for)
    if (!mark || removed > 0 || texts > 0 || next.chunks - mark.chunks > MARK_STRIDE || next.texts - mark.texts > MARK_STRIDE) {
      this.setState('orphans-checked', JSON.stringify(next));
    }
    return removed;
  }

  // --- card (read-only summaries) ---

  /**
   * The documents live at head grouped by one of their lineage columns, largest group first:
   * documents, chunks and bytes per value (the system card's data sources and lineage).
   */
  liveDocumentGroups(column: 'format' | 'embedded_with' | 'chunking'): Array<{ value: string; documents: number; chunks: number; bytes: number }> {
    // a fixed map, never the caller's text, goes into the SQL
    const col = { format: 'd.format', embedded_with: 'd.embedded_with', chunking: 'd.chunking' }[column];
    return this.db
      .prepare(
        `SELECT ${col} AS value, COUNT(*) AS documents, COALESCE(SUM(d.chunk_count), 0) AS chunks, COALESCE(SUM(d.byte_length), 0) AS bytes
         FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version
         WHERE ${LIVE} GROUP BY ${col} ORDER BY documents DESC, value`,
      )
      .all() as Array<{ value: string; documents: number; chunks: number; bytes: number }>;
  }

  /**
   * The documents live at head per source file and format: documents, chunks, bytes. Records
   * (documents handed over in memory, whose source is their own id) are one row, source ''.
   */
  liveSourceGroups(): Array<{ source: string; format: string; documents: number; chunks: number; bytes: number }> {
    return this.db
      .prepare(
        `SELECT CASE WHEN d.format = 'record' THEN '' ELSE d.source END AS source, d.format AS format,
                COUNT(*) AS documents, COALESCE(SUM(d.chunk_count), 0) AS chunks, COALESCE(SUM(d.byte_length), 0) AS bytes
         FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version
         WHERE ${LIVE} GROUP BY 1, d.format`,
      )
      .all() as Array<{ source: string; format: string; documents: number; chunks: number; bytes: number }>;
  }

  /**
   * Documents live at head that came from files (not records handed over in memory) whose
   * source is `root` itself or lies under it: `prefix` is `root` followed by the path
   * separator, so a sibling with a common prefix (docs2 beside docs) never matches.
   */
  liveFileDocumentsUnder(root: string, prefix: string): Array<{ doc_id: string; source: string }> {
    return this.db
      .prepare(
        `SELECT d.doc_id AS doc_id, d.source AS source FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version
         WHERE ${LIVE} AND d.format != 'record' AND (d.source = ? OR substr(d.source, 1, length(?)) = ?)
         ORDER BY d.source, d.doc_id`,
      )
      .all(root, prefix, prefix) as Array<{ doc_id: string; source: string }>;
  }

  /** When the documents live at head were ingested: the earliest and the latest (null when none). */
  liveIngestRange(): { first: string | null; last: string | null } {
    return this.db
      .prepare(`SELECT MIN(d.ingested_at) AS first, MAX(d.ingested_at) AS last FROM doc_live l JOIN doc_versions d ON d.doc_id = l.doc_id AND d.version = l.version WHERE ${LIVE}`)
      .get() as { first: string | null; last: string | null };
  }
}
