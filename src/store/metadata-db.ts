import Database from 'better-sqlite3';
import type { SegmentRecord } from './vector-segments.js';

/**
 * Chunk text, metadata and lineage in SQLite (better-sqlite3): real transactions make each
 * ingest batch all-or-nothing, and WAL mode lets readers search while a writer commits.
 *
 * Versioned documents: a document's chunks carry the `doc_version` they were written for,
 * and only chunks whose version equals documents.version are live. A large document is
 * written in several batches under a new version and becomes visible in one step when its
 * last batch commits; a crash in between leaves only invisible rows, removed on next write.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  doc_id        TEXT PRIMARY KEY,
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
  ingested_at   TEXT NOT NULL
);
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
  segment      INTEGER NOT NULL,
  row          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, doc_version);
CREATE TABLE IF NOT EXISTS segments (
  id         INTEGER PRIMARY KEY,
  file       TEXT NOT NULL UNIQUE,
  count      INTEGER NOT NULL,
  dims       INTEGER NOT NULL,
  sha256     TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_versions (
  doc_id  TEXT PRIMARY KEY,
  next    INTEGER NOT NULL
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
  segment: number;
  row: number;
}

export type NewChunkRow = Omit<ChunkRow, 'id'>;

export interface LiveVectorRef {
  id: number;
  segment: number;
  row: number;
}

export class MetadataDb {
  readonly db: Database.Database;

  constructor(path: string, readonly: boolean) {
    this.db = new Database(path, { readonly, fileMustExist: readonly });
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    }
    this.db.pragma('busy_timeout = 5000');
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getDocument(docId: string): DocumentRow | undefined {
    return this.db.prepare('SELECT * FROM documents WHERE doc_id = ?').get(docId) as DocumentRow | undefined;
  }

  /** Reserves a version number for a new write of `docId` (never reused, even after a crash). */
  nextDocVersion(docId: string): number {
    const row = this.db.prepare('SELECT next FROM doc_versions WHERE doc_id = ?').get(docId) as { next: number } | undefined;
    const current = this.getDocument(docId)?.version ?? 0;
    const next = Math.max(row?.next ?? 1, current + 1);
    this.db.prepare('INSERT INTO doc_versions (doc_id, next) VALUES (?, ?) ON CONFLICT(doc_id) DO UPDATE SET next = excluded.next').run(docId, next + 1);
    return next;
  }

  insertChunks(rows: NewChunkRow[]): void {
    const stmt = this.db.prepare(
      `INSERT INTO chunks (doc_id, doc_version, seq, text, start, end, token_count, text_hash, segment, row)
       VALUES (@doc_id, @doc_version, @seq, @text, @start, @end, @token_count, @text_hash, @segment, @row)`,
    );
    for (const r of rows) stmt.run(r);
  }

  insertSegment(seg: Omit<SegmentRecord, 'id'>): number {
    const info = this.db
      .prepare('INSERT INTO segments (file, count, dims, sha256, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(seg.file, seg.count, seg.dims, seg.sha256, new Date().toISOString());
    return Number(info.lastInsertRowid);
  }

  nextSegmentId(): number {
    const row = this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS n FROM segments').get() as { n: number };
    return row.n;
  }

  /** Makes `version` of a document the live one and drops every other version's chunks. */
  publishDocument(doc: DocumentRow): void {
    this.db
      .prepare(
        `INSERT INTO documents (doc_id, version, source, locator, format, title, metadata, content_hash, byte_length,
                                chunk_count, embedded_with, chunking, ingested_at)
         VALUES (@doc_id, @version, @source, @locator, @format, @title, @metadata, @content_hash, @byte_length,
                 @chunk_count, @embedded_with, @chunking, @ingested_at)
         ON CONFLICT(doc_id) DO UPDATE SET version = excluded.version, source = excluded.source, locator = excluded.locator,
           format = excluded.format, title = excluded.title, metadata = excluded.metadata, content_hash = excluded.content_hash,
           byte_length = excluded.byte_length, chunk_count = excluded.chunk_count, embedded_with = excluded.embedded_with,
           chunking = excluded.chunking, ingested_at = excluded.ingested_at`,
      )
      .run(doc);
    this.db.prepare('DELETE FROM chunks WHERE doc_id = ? AND doc_version <> ?').run(doc.doc_id, doc.version);
  }

  /** Removes chunks no live document version points at (left by an interrupted write). */
  removeOrphanChunks(): number {
    return this.db
      .prepare(
        `DELETE FROM chunks WHERE NOT EXISTS (
           SELECT 1 FROM documents d WHERE d.doc_id = chunks.doc_id AND d.version = chunks.doc_version)`,
      )
      .run().changes;
  }

  segments(): SegmentRecord[] {
    return this.db.prepare('SELECT id, file, count, dims, sha256 FROM segments ORDER BY id').all() as SegmentRecord[];
  }

  /** Every live chunk's vector location, in a stable order. */
  liveVectorRefs(): LiveVectorRef[] {
    return this.db
      .prepare(
        `SELECT c.id, c.segment, c.row FROM chunks c
         JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.doc_version
         ORDER BY c.id`,
      )
      .all() as LiveVectorRef[];
  }

  chunksWithDocuments(ids: number[]): Array<ChunkRow & { source: string; title: string | null; metadata: string; content_hash: string; embedded_with: string; ingested_at: string; locator: string | null }> {
    if (ids.length === 0) return [];
    const stmt = this.db.prepare(
      `SELECT c.*, d.source, d.title, d.metadata, d.content_hash, d.embedded_with, d.ingested_at, d.locator
       FROM chunks c JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.doc_version WHERE c.id = ?`,
    );
    return ids.map((id) => stmt.get(id)).filter((r) => r !== undefined) as never;
  }

  counts(): { documents: number; chunks: number } {
    const documents = (this.db.prepare('SELECT COUNT(*) AS n FROM documents').get() as { n: number }).n;
    const chunks = (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM chunks c JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.doc_version')
        .get() as { n: number }
    ).n;
    return { documents, chunks };
  }
}
