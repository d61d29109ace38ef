/**
 * Integrity on the read path (issue 14): damaged files are refused, never answered, in the
 * library, the CLI (exit 5) and the server (503 for that collection, the others serve);
 * `quarry repair` rebuilds what is derivable and reports what is not.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { repair } from '../src/api/repair.js';
import { search } from '../src/api/search.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { CollectionCorruptError, isQuarryError } from '../src/errors.js';
import { collectionPaths } from '../src/store/collection.js';
import { onSegmentVerified } from '../src/store/vector-segments.js';
import { runCli } from './support/cli.js';
import { SEEDS_DIR, tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, hashServer, json, key, seedCollection, waitFor } from './support/server.js';
import { SqliteDb } from '../src/store/sqlite.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
before(async () => {
  dir = await tempDir('quarry-integrity-');
  embedder = await HashEmbedder.create();
});
after(async () => {
  await dir.cleanup();
});

/** The kinds of damage every reader must refuse; each edits the collection folder `col`. */
const DAMAGE: Record<string, (col: string) => Promise<RegExp>> = {
  'flipped bytes in a vector segment': async (col) => {
    const seg = await firstSegment(col);
    const b = await readFile(seg);
    const at = Math.floor(b.length / 2);
    for (let i = at; i < at + 4; i++) b[i] ^= 0x5a;
    await writeFile(seg, b);
    return /vector segment seg-\d+\.f32 does not match its recorded sha256/;
  },
  'NaN rows (0xFF) in a vector segment': async (col) => {
    const seg = await firstSegment(col);
    const b = await readFile(seg);
    b.fill(0xff, 0, Math.min(b.length, 2 * 384 * 4));
    await writeFile(seg, b);
    return /vector segment seg-\d+\.f32 does not match its recorded sha256/;
  },
  'a truncated vector segment': async (col) => {
    const seg = await firstSegment(col);
    await truncate(seg, 1000);
    return /vector segment seg-\d+\.f32 has 1000 bytes, expected \d+ \(truncated\?\)/;
  },
  'a truncated meta.sqlite': async (col) => {
    const db = join(col, 'meta.sqlite');
    const size = (await readFile(db)).length;
    await truncate(db, Math.floor(size / 2));
    return /meta\.sqlite is damaged \(SQLite: database disk image is malformed\)/;
  },
  'a malformed meta.sqlite (garbage pages)': async (col) => {
    const db = join(col, 'meta.sqlite');
    const b = await readFile(db);
    // every page after the first: the header still says SQLite, the b-trees are garbage
    for (let i = 4096; i < b.length; i++) b[i] = (i * 7919) & 0xff;
    await writeFile(db, b);
    return /meta\.sqlite (is damaged|fails SQLite's quick_check)/;
  },
};

async function firstSegment(col: string): Promise<string> {
  const segs = (await readdir(join(col, 'vectors'))).filter((f) => f.endsWith('.f32')).sort();
  assert.ok(segs.length > 0, `${col} has vector segments`);
  return join(col, 'vectors', segs[0]);
}

/** Rewrites a segment row to NaN and records the new sha256, as a writer that stored NaN would have. */
async function nanRowWithMatchingHash(col: string): Promise<void> {
  const seg = await firstSegment(col);
  const b = await readFile(seg);
  b.fill(0xff, 0, 384 * 4);
  await writeFile(seg, b);
  const db = new SqliteDb(join(col, 'meta.sqlite'));
  try {
    db.prepare('UPDATE segments SET sha256 = ? WHERE file = ?').run(createHash('sha256').update(b).digest('hex'), seg.split('/').pop());
  } finally {
    await db.close();
  }
}

// --- the CLI, with the real model ------------------------------------------------------------

let seeds: string;
const cliData = (name: string) => ['--data', join(dir.path, 'cli', name)];

async function seedsCopy(name: string): Promise<string> {
  const to = join(dir.path, 'cli', name);
  await cp(seeds, to, { recursive: true });
  return join(to, 'default');
}

test('the CLI: each kind of damage is refused by search (exit 5, the file named) and reported by check (exit 5)', async () => {
  seeds = join(dir.path, 'seeds-base');
  const idx = await runCli(['index', SEEDS_DIR, '--data', seeds]);
  assert.equal(idx.code, 0, idx.stderr);
  const sound = await runCli(['search', 'library upgrade', '--json', '--data', seeds]);
  assert.equal(sound.code, 0, sound.stderr);

  for (const [kind, damage] of Object.entries(DAMAGE)) {
    const name = kind.replace(/\W+/g, '-');
    const expected = await damage(await seedsCopy(name));
    const s = await runCli(['search', 'library upgrade', '--json', ...cliData(name)]);
    assert.equal(s.code, 5, `${kind}: search exits 5, got ${s.code}: ${s.stderr}${s.stdout.slice(0, 200)}`);
    assert.equal(s.stdout, '', `${kind}: no answer is printed`);
    const err = JSON.parse(s.stderr) as { error: string; message: string };
    assert.equal(err.error, 'COLLECTION_CORRUPT', kind);
    assert.match(err.message, expected, kind);
    assert.match(err.message, /quarry repair|restore the collection folder from a backup/, `${kind}: the error says what to do`);
    const c = await runCli(['check', ...cliData(name)]);
    assert.equal(c.code, 5, `${kind}: check exits 5, got ${c.code}: ${c.stderr}`);
    assert.match(c.stdout, /^DAMAGED: /m, kind);
    assert.match(c.stdout, expected, kind);
    assert.match(c.stdout, /^FAILED: /m, kind);
  }

  // a NaN row whose sha256 was recorded over it (a writer that stored garbage): caught by the row check
  const nan = await seedsCopy('nan-recorded');
  await nanRowWithMatchingHash(nan);
  const s = await runCli(['search', 'library upgrade', ...cliData('nan-recorded')]);
  assert.equal(s.code, 5, s.stderr);
  assert.match(s.stderr, /row 0 of vector segment seg-\d+\.f32 \(chunk \d+\) is not a finite unit vector/);
  const c = await runCli(['check', ...cliData('nan-recorded')]);
  assert.equal(c.code, 5);
  assert.match(c.stdout, /DAMAGED: 1 live vectors are not finite unit vectors \(in seg-\d+\.f32\)/);
});

test('the CLI: repair --dry-run says what it would do and changes nothing; repair re-embeds, and search answers as before the damage', async () => {
  const col = await seedsCopy('repair');
  await DAMAGE['flipped bytes in a vector segment'](col);
  const seg = await firstSegment(col);
  const damagedBytes = await readFile(seg);

  const dry = await runCli(['repair', '--dry-run', ...cliData('repair')]);
  assert.equal(dry.code, 5, dry.stderr);
  assert.match(dry.stdout, /^would re-derive vectors\/seg-\d+\.f32 \(does not match its recorded sha256\): 26 rows, 26 re-embedded, 0 from the embedding cache$/m);
  assert.match(dry.stdout, /1 repair\(s\) needed; run without --dry-run/);
  assert.deepEqual(await readFile(seg), damagedBytes, 'a dry run changes nothing');
  assert.equal((await runCli(['search', 'x', ...cliData('repair')])).code, 5);

  const fixed = await runCli(['repair', '--json', ...cliData('repair')]);
  assert.equal(fixed.code, 0, fixed.stderr);
  const report = JSON.parse(fixed.stdout) as { ok: boolean; actions: Array<{ kind: string; reembed: number }>; after: { ok: boolean } };
  assert.equal(report.ok, true);
  assert.equal(report.after.ok, true);
  assert.deepEqual(
    report.actions.map((a) => [a.kind, a.reembed]),
    [['rederive-vectors', 26]],
  );
  assert.equal((await runCli(['check', ...cliData('repair')])).code, 0);
  const again = await runCli(['search', 'library upgrade', '--json', ...cliData('repair')]);
  assert.equal(again.code, 0, again.stderr);
  const before = JSON.parse((await runCli(['search', 'library upgrade', '--json', '--data', seeds])).stdout) as { results: Array<{ chunkId: number; score: number }> };
  const afterRepair = JSON.parse(again.stdout) as { results: Array<{ chunkId: number; score: number }> };
  assert.deepEqual(
    afterRepair.results.map((r) => r.chunkId),
    before.results.map((r) => r.chunkId),
    'the re-derived vectors rank as the originals did',
  );
  afterRepair.results.forEach((r, i) => assert.ok(Math.abs(r.score - before.results[i].score) < 1e-4, `score ${r.score} vs ${before.results[i].score}`));
  assert.match((await runCli(['repair', ...cliData('repair')])).stdout, /OK: nothing to repair/);
  // repairs (not dry runs) are in the audit log with what they did
  const audit = await runCli(['audit', '--action', 'repair', '--json', ...cliData('repair')]);
  assert.equal(audit.code, 0, audit.stderr);
  const { entries } = JSON.parse(audit.stdout) as { entries: Array<{ action: string; outcome: string; detail: { actions: string[]; ok: boolean } }> };
  assert.deepEqual(
    entries.map((e) => [e.action, e.outcome, e.detail.actions.length, e.detail.ok]),
    [
      ['repair', 'ok', 1, true],
      ['repair', 'ok', 0, true],
    ],
  );
  assert.match(entries[0].detail.actions[0], /^rederive-vectors vectors\/seg-\d+\.f32$/);
});

test('the CLI: repair reports a damaged meta.sqlite as the source of truth and changes nothing', async () => {
  const col = await seedsCopy('repair-db');
  await DAMAGE['a truncated meta.sqlite'](col);
  const bytes = await readFile(join(col, 'meta.sqlite'));
  for (const args of [['repair', '--dry-run'], ['repair']]) {
    const r = await runCli([...args, ...cliData('repair-db')]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stdout, /^CANNOT REPAIR: meta\.sqlite is damaged/m);
    assert.match(r.stdout, /what to do: meta\.sqlite is the source of truth .* restore the collection folder from a backup/);
  }
  assert.deepEqual(await readFile(join(col, 'meta.sqlite')), bytes);
});

// --- the library: ANN and BM25 files, the embedding cache --------------------------------------

const lib = (name: string) => ({ dataDir: join(dir.path, 'lib'), collection: name, embedder });

test('a damaged ANN index file is refused by readers, named by check, rebuilt by repair', async () => {
  await upsertDocuments(docs('h', 30, 'heron'), { ...lib('hnsw'), index: { type: 'hnsw' } });
  const file = join(dir.path, 'lib', 'hnsw', 'indexes', 'hnsw.qidx');
  const b = await readFile(file);
  b[b.length - 10] ^= 0xff;
  await writeFile(file, b);
  await assert.rejects(search('heron', lib('hnsw')), (e: unknown) => e instanceof CollectionCorruptError && /ANN index file indexes\/hnsw\.qidx is damaged/.test(e.message) && /quarry repair/.test(e.message));
  const report = await check(lib('hnsw'));
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => /ANN index file indexes\/hnsw\.qidx/.test(p)), report.problems.join('\n'));
  const dry = await repair({ ...lib('hnsw'), dryRun: true });
  assert.deepEqual(dry.actions.map((a) => [a.kind, a.file]), [['rebuild-ann-index', 'indexes/hnsw.qidx']]);
  assert.equal(dry.ok, false);
  const done = await repair(lib('hnsw'));
  assert.equal(done.ok, true, JSON.stringify(done.after?.problems));
  assert.equal((await search('heron', { ...lib('hnsw'), k: 3 })).results.length, 3);
});

test('a damaged BM25 file is refused by a bm25 search and rebuilt by repair', async () => {
  await upsertDocuments(docs('b', 10, 'otter'), lib('bm25'));
  const file = join(dir.path, 'lib', 'bm25', 'indexes', 'bm25.qlex');
  const b = await readFile(file);
  b[b.length - 3] ^= 0xff;
  await writeFile(file, b);
  await assert.rejects(search('otter', { ...lib('bm25'), mode: 'bm25' }), (e: unknown) => isQuarryError(e) && e.code === 'COLLECTION_CORRUPT' && /bm25\.qlex/.test(e.message));
  const done = await repair(lib('bm25'));
  assert.deepEqual(done.actions.map((a) => a.kind), ['rebuild-bm25-index']);
  assert.equal(done.ok, true);
  assert.equal((await search('otter', { ...lib('bm25'), mode: 'bm25', k: 2 })).results.length, 2);
});

test('repair takes vectors from the embedding cache of a kept generation before re-embedding', async () => {
  const { reindex, promote } = await import('../src/api/generations.js');
  await upsertDocuments(docs('g', 12, 'kestrel'), lib('gens'));
  // a second generation of the same model and chunking: every input is already embedded in generation 1
  await reindex({ ...lib('gens'), loadEmbedder: async () => embedder });
  await promote({ ...lib('gens'), force: true, loadEmbedder: async () => embedder });
  await DAMAGE['flipped bytes in a vector segment'](collectionPaths(join(dir.path, 'lib'), 'gens').dir);
  let embedded = 0;
  const counting = Object.assign(Object.create(Object.getPrototypeOf(embedder) as object) as HashEmbedder, embedder, {
    embed: async (texts: string[]) => {
      embedded += texts.length;
      return embedder.embed(texts);
    },
  });
  const dry = await repair({ ...lib('gens'), dryRun: true });
  const action = dry.actions.find((a) => a.kind === 'rederive-vectors');
  assert.ok(action, JSON.stringify(dry));
  assert.equal(action.reembed, 0);
  assert.equal(action.fromCache, action.rows! - action.unreferenced!);
  const done = await repair({ ...lib('gens'), embedder: counting });
  assert.equal(done.ok, true, JSON.stringify(done.after?.problems));
  assert.equal(embedded, 0, 'nothing was re-embedded');
});

// --- the server: that collection 503, the others serve ------------------------------------------

test('the server: a collection damaged at start is failed in /readyz and answers 503; the others answer 200', async () => {
  const data = join(dir.path, 'server-start');
  const kinds = Object.keys(DAMAGE);
  const names = kinds.map((_, i) => `bad${i}`);
  for (const n of [...names, 'good']) await seedCollection(data, n, embedder, docs(n, 6, 'heron'));
  const expected = new Map<string, RegExp>();
  for (const [i, kind] of kinds.entries()) expected.set(names[i], await DAMAGE[kind](join(data, names[i])));
  const k = await key(data, 'admin', ['*']);
  const app = await hashServer(data, embedder);
  try {
    await app.ready();
    const ready = await waitFor('every collection to load', async () => {
      const r = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(k) });
      return r.statusCode === 200 ? r : undefined;
    });
    const status = json<{ collections: Array<{ name: string; state: string; error?: { code: string; message: string } }> }>(ready);
    for (const [i, n] of names.entries()) {
      const s = status.collections.find((c) => c.name === n)!;
      assert.equal(s.state, 'failed', `${kinds[i]}: /readyz lists it failed`);
      assert.equal(s.error?.code, 'COLLECTION_CORRUPT', kinds[i]);
      assert.match(s.error!.message, expected.get(n)!, kinds[i]);
      const res = await app.inject({ method: 'POST', url: `/collections/${n}/search`, headers: bearer(k), payload: { query: 'heron' } });
      assert.equal(res.statusCode, 503, `${kinds[i]}: ${res.body}`);
      assert.match(json<{ error: { message: string } }>(res).error.message, expected.get(n)!);
      assert.doesNotMatch(res.body, new RegExp(data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the answer');
    }
    assert.equal(status.collections.find((c) => c.name === 'good')?.state, 'ready');
    const good = await app.inject({ method: 'POST', url: '/collections/good/search', headers: bearer(k), payload: { query: 'heron' } });
    assert.equal(good.statusCode, 200, good.body);
    assert.ok(json<{ results: unknown[] }>(good).results.length > 0);
  } finally {
    await app.close();
  }
});

test('the server: damage found when reloading after a write takes the collection out of service; after repair it serves again', async () => {
  const data = join(dir.path, 'server-reload');
  await seedCollection(data, 'a', embedder, docs('a', 6, 'heron'));
  await seedCollection(data, 'b', embedder, docs('b', 6, 'heron'));
  const k = await key(data, 'admin', ['*']);
  const app = await hashServer(data, embedder, { damagedRetryMs: 200 });
  try {
    await app.ready();
    const search = (n: string) => app.inject({ method: 'POST', url: `/collections/${n}/search`, headers: bearer(k), payload: { query: 'heron' } });
    assert.equal((await search('a')).statusCode, 200);
    await DAMAGE['flipped bytes in a vector segment'](join(data, 'a'));
    // another process writes: the next search reloads the new version, and verifies its segments again
    await seedCollection(data, 'a', embedder, docs('a2', 2, 'heron'));
    const refused = await search('a');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.match(json<{ error: { message: string } }>(refused).error.message, /seg-\d+\.f32 does not match its recorded sha256/);
    const status = json<{ collections: Array<{ name: string; state: string }> }>(await app.inject({ method: 'GET', url: '/readyz', headers: bearer(k) }));
    assert.equal(status.collections.find((c) => c.name === 'a')?.state, 'failed');
    assert.equal(status.collections.find((c) => c.name === 'b')?.state, 'ready');
    assert.equal((await search('b')).statusCode, 200);
    assert.equal((await search('a')).statusCode, 503, 'still refused');

    const fixed = await repair({ dataDir: data, collection: 'a', embedder });
    assert.equal(fixed.ok, true);
    await new Promise((r) => setTimeout(r, 250));
    const back = await search('a');
    assert.equal(back.statusCode, 200, back.body);
  } finally {
    await app.close();
  }
});

test('the server: damage met while answering (a result whose text fails its hash) takes that collection out of service', async () => {
  const data = join(dir.path, 'server-query');
  await seedCollection(data, 'a', embedder, docs('a', 6, 'heron'));
  await seedCollection(data, 'b', embedder, docs('b', 6, 'heron'));
  const k = await key(data, 'admin', ['*']);
  const app = await hashServer(data, embedder);
  try {
    await app.ready();
    const search = (n: string) => app.inject({ method: 'POST', url: `/collections/${n}/search`, headers: bearer(k), payload: { query: 'heron' } });
    assert.equal((await search('a')).statusCode, 200);
    // the text changes inside an intact database (no new version: the warm view is not reloaded)
    const db = new SqliteDb(join(data, 'a', 'meta.sqlite'));
    try {
      db.prepare("UPDATE chunks SET text = replace(text, 'heron', 'HERON')").run();
    } finally {
      await db.close();
    }
    const refused = await search('a');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.match(json<{ error: { message: string } }>(refused).error.message, /the text of chunk \d+ .* does not match its recorded sha256/);
    const status = json<{ collections: Array<{ name: string; state: string }> }>(await app.inject({ method: 'GET', url: '/readyz', headers: bearer(k) }));
    assert.equal(status.collections.find((c) => c.name === 'a')?.state, 'failed');
    assert.equal((await search('a')).statusCode, 503);
    assert.equal((await search('b')).statusCode, 200);
  } finally {
    await app.close();
  }
});

// --- what a reader verifies ---------------------------------------------------------------------

test('a reader hashes each live segment once when it loads, and again after a write', async () => {
  await upsertDocuments(docs('v', 8, 'wren'), { ...lib('verify'), batchChunks: 3 });
  const seen: string[] = [];
  const off = onSegmentVerified((v) => seen.push(v.path));
  try {
    await search('wren', lib('verify'));
    const segs = (await readdir(join(dir.path, 'lib', 'verify', 'vectors'))).filter((f) => f.endsWith('.f32'));
    assert.equal(seen.length, segs.length, `every segment once: ${seen.join(', ')}`);
    assert.deepEqual(new Set(seen.map((p) => p.split('/').pop())), new Set(segs));
    seen.length = 0;
    await upsertDocuments(docs('v2', 1, 'wren'), lib('verify'));
    seen.length = 0;
    await search('wren', lib('verify'));
    assert.equal(seen.length, segs.length + 1, 'a new reader verifies again, the new segment included');
  } finally {
    off();
  }
});
