/**
 * Tier-2 candidate vectors kept on disk beside the collection, keyed by (model key, content
 * hash): a passage the larger model embedded once is never embedded again, across queries,
 * processes and restarts. It is derived data: losing it costs time, never correctness, so
 * `quarry compact` simply deletes it, and a collection folder that cannot be written (a
 * read-only mount) just runs without it.
 *
 * Its own SQLite file, not meta.sqlite: searches write to it, and they must never contend
 * with the collection's single writer or touch its versioned tables.
 */
import { SqliteDb, type Statement } from './sqlite.js';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const TIER2_CACHE_FILE = 'tier2-cache.sqlite';

export class Tier2Cache {
  private readonly getStmt: Statement<{ vec: Uint8Array }>;
  private readonly putStmt: Statement;

  private constructor(private readonly db: SqliteDb) {
    db.exec('CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, hash TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID');
    this.getStmt = db.prepare<{ vec: Uint8Array }>('SELECT vec FROM vectors WHERE model = ? AND hash = ?');
    this.putStmt = db.prepare('INSERT OR REPLACE INTO vectors (model, hash, vec) VALUES (?, ?, ?)');
  }

  /** The cache of the collection in `dir`; null when it cannot be opened for writing. */
  static open(dir: string): Tier2Cache | null {
    try {
      const db = new SqliteDb(join(dir, TIER2_CACHE_FILE));
      db.pragma('journal_mode = WAL');
      // a lost tail of the cache is harmless, so no fsync per write
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      return new Tier2Cache(db);
    } catch {
      return null;
    }
  }

  get(model: string, hashes: readonly string[]): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const h of hashes) {
      const row = this.getStmt.get(model, h);
      // copy: the bytes may not be 4-byte aligned for a Float32Array view
      if (row) out.set(h, new Float32Array(new Uint8Array(row.vec).buffer));
    }
    return out;
  }

  put(model: string, entries: ReadonlyArray<readonly [string, Float32Array]>): void {
    if (entries.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const [h, v] of entries) this.putStmt.run(model, h, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      });
    } catch {
      // busy or full disk: the vectors stay in memory, the next query tries again
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Removes the cache of the collection in `dir` (and its WAL files). */
export async function dropTier2Cache(dir: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await unlink(join(dir, TIER2_CACHE_FILE + suffix)).catch(() => undefined);
}
