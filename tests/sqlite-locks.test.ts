import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { MetadataDb } from '../src/store/metadata-db.js';
import { tempDir } from './support/env.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'support', 'sqlite-writer-child.js');

function inAnotherProcess(...args: string[]): string {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
const write = (path: string, prefix: string, rows: number) => inAnotherProcess('write', path, prefix, String(rows));
/**
 * Whether another process, closing its own connection, deletes the WAL: it does only when it can
 * take the database file's exclusive lock, i.e. when no connection of ours holds a lock on it.
 */
const lastUserElsewhere = (path: string) => inAnotherProcess('close', path) === 'deleted';

const count = (db: MetadataDb, prefix: string): number => db.db.prepare<{ n: number }>('SELECT count(*) AS n FROM state WHERE key LIKE ?').get(`${prefix}-%`)!.n;

/** This process's open descriptors on `path` and its -wal/-shm (Linux's /proc; elsewhere, none known). */
function descriptorsOn(path: string): string[] {
  if (!existsSync('/proc/self/fd')) return [];
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(join('/proc/self/fd', fd));
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(path));
}

// SQLite's locks are POSIX advisory locks, which a process loses on *every* descriptor of a file
// the moment it closes any one of them ("How To Corrupt An SQLite Database File", 2.2). So a
// second handle must never open and close meta.sqlite outside SQLite: that silently dropped the
// first handle's locks, and another process could then take the database for itself (its last
// close checkpoints and deletes -wal and -shm under the handles still reading them).
test('opening and closing a second handle keeps the first one\'s locks: no other process deletes the WAL under it', async () => {
  const dir = await tempDir('quarry-locks-');
  try {
    const path = join(dir.path, 'meta.sqlite');
    await new MetadataDb(path, false, 'locks').close();
    write(path, 'a', 50);
    const first = new MetadataDb(path, true, 'locks');
    assert.equal(count(first, 'a'), 50);
    const second = new MetadataDb(path, true, 'locks');
    assert.equal(count(second, 'a'), 50);
    await second.close();
    assert.equal(lastUserElsewhere(path), false, 'another process deleted the WAL while this one still had the database open');
    write(path, 'b', 200);
    assert.equal(count(first, 'b'), 200);
    first.quickCheck();
    await first.close();
    assert.equal(lastUserElsewhere(path), true, 'the database stayed held after every handle was closed');
  } finally {
    await dir.cleanup();
  }
});

// The SQLite binding cannot finalize statements, so its close() left the connection open (a
// "zombie") until the garbage collector ran; a zombie's late close deletes -wal and -shm by
// path, which after a folder rename (a promoted generation) belong to another database.
test('close() leaves nothing behind: no descriptor of the file, no lock, even with statements still referenced', async () => {
  const dir = await tempDir('quarry-locks-');
  try {
    const path = join(dir.path, 'meta.sqlite');
    const db = new MetadataDb(path, false, 'locks');
    const kept = db.db.prepare<{ n: number }>('SELECT count(*) AS n FROM state');
    assert.equal(kept.get()!.n, 0);
    assert.ok(existsSync('/proc/self/fd') ? descriptorsOn(path).length > 0 : true);
    await db.close();
    assert.deepEqual(descriptorsOn(path), []);
    assert.equal(lastUserElsewhere(path), true, 'a closed handle still holds the database');
    assert.throws(() => kept.get(), /used after its database was closed/);
  } finally {
    await dir.cleanup();
  }
});
