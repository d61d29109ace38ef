/**
 * Another process using a collection's meta.sqlite, for the locking tests.
 *   write <meta.sqlite> <prefix> <rows>: commits `rows` state rows in one transaction and closes
 *     (as `quarry index` does when it ends);
 *   close <meta.sqlite>: opens it, reads, closes, and prints "deleted" when that close
 *     checkpointed and deleted the -wal file (SQLite does so only when it gets the database file's
 *     exclusive lock, i.e. when no other connection, in any process, still holds its lock), else
 *     "kept".
 */
import { existsSync } from 'node:fs';
import { MetadataDb } from '../../src/store/metadata-db.js';
import { SqliteDb } from '../../src/store/sqlite.js';

const [what, path, prefix, rows] = process.argv.slice(2);
if (what === 'write') {
  const db = new MetadataDb(path, false, 'locks');
  const put = db.db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < Number(rows); i++) put.run(`${prefix}-${i}`, 'x'.repeat(2000));
  });
  await db.close();
} else if (what === 'close') {
  const db = new SqliteDb(path);
  db.pragma('schema_version');
  await db.close();
  process.stdout.write(existsSync(`${path}-wal`) ? 'kept\n' : 'deleted\n');
} else {
  throw new Error(`unknown action ${what}`);
}
