import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CollectionCorruptError, CollectionLockedError, CollectionNotFoundError, InvalidInputError } from '../src/errors.js';
import { FlatIndex } from '../src/index/flat-index.js';
import { writeFileAtomic } from '../src/store/atomic-file.js';
import { Collection, validateCollectionName } from '../src/store/collection.js';
import type { DocumentRow } from '../src/store/metadata-db.js';
import { tempDir } from './support/env.js';
import { fakeManifest } from './support/fake-manifest.js';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

function unit(...xs: number[]): Float32Array {
  const v = new Float32Array(xs);
  const n = Math.hypot(...xs);
  return v.map((x) => x / n);
}

function docRow(docId: string, version: number, chunkCount: number): DocumentRow {
  return {
    doc_id: docId,
    version,
    source: `/src/${docId}`,
    locator: null,
    format: 'text',
    title: null,
    metadata: '{}',
    content_hash: 'h' + version,
    byte_length: 10,
    chunk_count: chunkCount,
    embedded_with: 'test',
    chunking: '{}',
    ingested_at: new Date().toISOString(),
  };
}

function chunkRow(docId: string, version: number, seq: number) {
  return { doc_id: docId, doc_version: version, seq, text: `${docId} ${seq}`, start: 0, end: 3, token_count: 1, text_hash: 'x', embed_hash: `e-${docId}-${version}-${seq}` };
}

test('collection names are validated', () => {
  for (const bad of ['', '../etc', 'a/b', '.hidden', 'x'.repeat(65), 'a b']) {
    assert.throws(() => validateCollectionName(bad), InvalidInputError, bad);
  }
  assert.equal(validateCollectionName('docs_2024-v1.0'), 'docs_2024-v1.0');
});

test('opening a missing collection names the command that creates it', async () => {
  await assert.rejects(Collection.open(dir.path, 'nope', 'read'), (e: unknown) => {
    assert.ok(e instanceof CollectionNotFoundError);
    assert.match((e as Error).message, /quarry index/);
    return true;
  });
});

test('a document becomes visible only when published; its old version disappears at once', async () => {
  const c = await Collection.create(dir.path, 'vis', fakeManifest('vis'));
  try {
    const g1 = c.beginWrite();
    const v1 = c.db.nextDocVersion('d1');
    await c.writeBatch({ chunks: [chunkRow('d1', v1, 0)], vectors: [unit(1, 0, 0, 0)], publish: [] }, g1);
    assert.equal((await c.loadVectors()).ids.length, 0, 'unpublished chunks are invisible');
    await c.writeBatch({ chunks: [chunkRow('d1', v1, 1)], vectors: [unit(0, 1, 0, 0)], publish: [docRow('d1', v1, 2)] }, g1);
    assert.equal((await c.loadVectors()).ids.length, 2);
    assert.equal(c.endWrite(g1, 'index', 'first')?.id, 1);
    const g2 = c.beginWrite();
    const v2 = c.db.nextDocVersion('d1');
    assert.ok(v2 > v1);
    await c.writeBatch({ chunks: [chunkRow('d1', v2, 0)], vectors: [unit(0, 0, 1, 0)], publish: [docRow('d1', v2, 1)] }, g2);
    c.endWrite(g2, 'index', 'second');
    const { matrix, ids, generation } = await c.loadVectors();
    assert.equal(generation, 2);
    assert.equal(ids.length, 1);
    const hits = FlatIndex.fromMatrix(4, matrix, ids).search(unit(0, 0, 1, 0), 5);
    assert.equal(hits.length, 1);
    assert.ok(Math.abs(hits[0].score - 1) < 1e-6);
    assert.deepEqual(c.db.counts(), { documents: 1, chunks: 1 });
    // the first generation still holds the first version
    assert.deepEqual(c.db.counts(1), { documents: 1, chunks: 2 });
    // a write that changes nothing makes no generation
    assert.equal(c.endWrite(c.beginWrite(), 'index', 'nothing'), null);
    assert.equal(c.db.head(), 2);
  } finally {
    await c.close();
  }
});

test('a second writer is refused with a clear error; readers are not blocked', async () => {
  const c = await Collection.create(dir.path, 'locked', fakeManifest('locked'));
  try {
    await assert.rejects(Collection.open(dir.path, 'locked', 'write'), (e: unknown) => {
      assert.ok(e instanceof CollectionLockedError);
      assert.match((e as Error).message, /being written by another process/);
      return true;
    });
    const reader = await Collection.open(dir.path, 'locked', 'read');
    await reader.close();
  } finally {
    await c.close();
  }
  // released: a new writer gets it
  const again = await Collection.open(dir.path, 'locked', 'write');
  await again.close();
});

test('a lock left by a dead process is taken over', async () => {
  const c = await Collection.create(dir.path, 'stale', fakeManifest('stale'));
  await c.close();
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid: number = await new Promise((res) => child.on('exit', () => res(child.pid!)));
  const { hostname } = await import('node:os');
  await writeFile(join(dir.path, 'stale', 'write.lock'), JSON.stringify({ pid: deadPid, host: hostname(), since: 'then' }));
  const w = await Collection.open(dir.path, 'stale', 'write');
  await w.close();
});

test('a write-open clears what an interrupted writer left behind', async () => {
  const c = await Collection.create(dir.path, 'recover', fakeManifest('recover'));
  const g = c.beginWrite();
  const v = c.db.nextDocVersion('d');
  await c.writeBatch({ chunks: [chunkRow('d', v, 0)], vectors: [unit(1, 1, 0, 0)], publish: [] }, g);
  // an acknowledged document of the same interrupted write
  const va = c.db.nextDocVersion('acked');
  await c.writeBatch({ chunks: [chunkRow('acked', va, 0)], vectors: [unit(0, 1, 1, 0)], publish: [docRow('acked', va, 1)] }, g);
  await c.close(); // no endWrite: the process "died" here
  await writeFile(join(dir.path, 'recover', 'vectors', 'seg-999999.f32'), Buffer.alloc(16));
  const w = await Collection.open(dir.path, 'recover', 'write');
  try {
    const files = await readdir(join(dir.path, 'recover', 'vectors'));
    assert.ok(!files.includes('seg-999999.f32'), 'unreferenced segment removed');
    const rows = w.db.db.prepare("SELECT COUNT(*) AS n FROM chunks WHERE doc_id = 'd'").get() as { n: number };
    assert.equal(rows.n, 0, 'invisible chunk rows removed');
    assert.ok(w.db.getDocument('acked'), 'the acknowledged document survived');
    const gens = w.db.generations();
    assert.equal(gens.length, 1);
    assert.equal(gens[0].kind, 'recovered');
    assert.equal(w.db.pendingGeneration(), undefined);
  } finally {
    await w.close();
  }
});

test('a truncated vector segment or a damaged manifest fails loudly, never quietly', async () => {
  const c = await Collection.create(dir.path, 'damaged', fakeManifest('damaged'));
  const g = c.beginWrite();
  const v = c.db.nextDocVersion('d');
  await c.writeBatch({ chunks: [chunkRow('d', v, 0), chunkRow('d', v, 1)], vectors: [unit(1, 0, 0, 0), unit(0, 1, 0, 0)], publish: [docRow('d', v, 2)] }, g);
  c.endWrite(g, 'index', 'x');
  await c.close();
  const segs = await readdir(join(dir.path, 'damaged', 'vectors'));
  await truncate(join(dir.path, 'damaged', 'vectors', segs[0]), 20);
  const r = await Collection.open(dir.path, 'damaged', 'read');
  try {
    await assert.rejects(r.loadVectors(), (e: unknown) => e instanceof CollectionCorruptError && /truncated/.test((e as Error).message));
  } finally {
    await r.close();
  }
  const manifestPath = join(dir.path, 'damaged', 'manifest.json');
  const text = await readFile(manifestPath, 'utf8');
  await writeFile(manifestPath, text.slice(0, text.length / 2));
  await assert.rejects(Collection.open(dir.path, 'damaged', 'read'), CollectionCorruptError);
});

test('atomic writes replace a file whole and leave no temp files', async () => {
  const p = join(dir.path, 'atomic.json');
  await writeFileAtomic(p, 'one');
  await writeFileAtomic(p, 'two');
  assert.equal(await readFile(p, 'utf8'), 'two');
  const leftovers = (await readdir(dir.path)).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('flat search is exact: it equals brute force, and k larger than the index returns all', () => {
  const dims = 8;
  const n = 300;
  const data = new Float32Array(n * dims);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  for (let i = 0; i < n; i++) data.set(unit(...Array.from({ length: dims }, rnd)), i * dims);
  const ids = Float64Array.from({ length: n }, (_, i) => 1000 + i);
  const idx = FlatIndex.fromMatrix(dims, data, ids);
  const q = unit(...Array.from({ length: dims }, rnd));
  const brute = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < dims; j++) s += data[i * dims + j] * q[j];
    return { id: 1000 + i, score: s };
  }).sort((a, b) => b.score - a.score);
  const hits = idx.search(q, 10);
  assert.deepEqual(hits.map((h) => h.id), brute.slice(0, 10).map((b) => b.id));
  hits.forEach((h, i) => assert.ok(Math.abs(h.score - brute[i].score) < 1e-5));
  assert.equal(idx.search(q, 1000).length, n);
  assert.deepEqual(new FlatIndex(dims).search(q, 5), []);
  const grow = new FlatIndex(dims, 1);
  grow.add([1, 2], data.slice(0, 2 * dims));
  grow.add([3], data.slice(2 * dims, 3 * dims));
  assert.equal(grow.size, 3);
  assert.equal(grow.search(data.slice(2 * dims, 3 * dims), 1)[0].id, 3);
});
