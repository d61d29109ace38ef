/** store/sqlite.ts: the one SQLite binding, with better-sqlite3's transactions, plain rows and SQLite's error names. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteDb } from '../src/store/sqlite.js';
import { tempDir } from './support/env.js';

const dir = await tempDir();
after(() => dir.cleanup());

test('rows are plain objects; named and positional parameters; run reports changes and the row id', async () => {
  const db = new SqliteDb(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)');
  const r = db.prepare('INSERT INTO t (name, data) VALUES (?, ?)').run('a', Buffer.from([1, 2]));
  assert.deepEqual(r, { changes: 1, lastInsertRowid: 1 });
  assert.deepEqual(db.prepare('SELECT id, name FROM t WHERE name = @name').get({ name: 'a' }), { id: 1, name: 'a' });
  assert.deepEqual([...(db.prepare<{ data: Uint8Array }>('SELECT data FROM t').get()!.data)], [1, 2]);
  assert.equal(db.prepare('SELECT * FROM t WHERE id = ?').get(99), undefined);
  await db.close();
});

test('a transaction commits or rolls back whole; a nested one is a savepoint', async () => {
  const db = new SqliteDb(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const count = () => (db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM t').get()!.n);
  assert.throws(() =>
    db.transaction(() => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      throw new Error('boom');
    }),
  );
  assert.equal(count(), 0);
  db.transaction(() => {
    db.prepare('INSERT INTO t VALUES (1)').run();
    assert.throws(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO t VALUES (2)').run();
        throw new Error('inner');
      }),
    );
  });
  assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 1 }]);
  await db.close();
});

test("errors carry SQLite's name for them: a full database is SQLITE_FULL, not a generic error", async () => {
  const db = new SqliteDb(join(dir.path, 'full.sqlite'));
  db.exec('CREATE TABLE t (b BLOB)');
  db.pragma('max_page_count = 3');
  assert.throws(
    () => {
      for (let i = 0; i < 50; i++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000));
    },
    (e: unknown) => (e as { code?: string }).code === 'SQLITE_FULL',
  );
  await db.close();
});

test('read-only: a missing file is not created, and writes are refused', async () => {
  const missing = join(dir.path, 'missing.sqlite');
  assert.throws(() => new SqliteDb(missing, { readonly: true }));
  assert.equal(existsSync(missing), false);
  const path = join(dir.path, 'ro.sqlite');
  const w = new SqliteDb(path);
  w.exec('CREATE TABLE t (v INTEGER)');
  await w.close();
  const r = new SqliteDb(path, { readonly: true });
  assert.throws(() => r.exec('INSERT INTO t VALUES (1)'), (e: unknown) => (e as { code?: string }).code === 'SQLITE_READONLY');
  assert.equal(r.pragma('user_version', { simple: true }), 0);
  await r.close();
});
