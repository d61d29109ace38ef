/**
 * Generations on disk, with stand-in models: the embedding cache across generations, the
 * stored text a reindex re-chunks, crash leftovers, listing and deleting a collection whose
 * first generation is gone, and the refusals a user can meet.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectionNames, deleteCollection } from '../src/api/collections.js';
import { gcGenerations, listGenerations, promote, reindex, rollbackGeneration, setJudgments } from '../src/api/generations.js';
import { search } from '../src/api/search.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import type { Embedder } from '../src/embed/embedder.js';
import { PROBE_SENTENCES } from '../src/embed/probes.js';
import { Collection } from '../src/store/collection.js';
import { writeDeployment } from '../src/store/deployment.js';
import { runCli } from './support/cli.js';
import { modelsDir, SEEDS_DIR, tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { docs } from './support/server.js';

const C = 'notes';

async function setup() {
  const dir = await tempDir();
  const a = await HashEmbedder.create();
  const b = await HashEmbedder.create(16, 'test/hash-embedder-b');
  const load = async (ref: string): Promise<Embedder> => (ref.startsWith('test/hash-embedder-b') ? b : a);
  await upsertDocuments([...docs('owl', 8, 'owl'), ...docs('fox', 8, 'fox')], { dataDir: dir.path, collection: C, embedder: a });
  return { dir, a, b, load, o: { dataDir: dir.path, collection: C, loadEmbedder: load } };
}

test('reindex: the same model and settings embed nothing; another model embeds everything; live is untouched', async () => {
  const { dir, a, b, o } = await setup();
  try {
    const before = a.embedded;
    const same = await reindex(o);
    assert.equal(same.chunksEmbedded, 0);
    assert.equal(same.cacheHitRate, 1);
    assert.equal(a.embedded - before, PROBE_SENTENCES.length, 'model A embedded its fingerprint probes only, no chunk');
    assert.equal(same.documents, 16);

    const other = await reindex({ ...o, model: 'test/hash-embedder-b' });
    assert.equal(other.chunksEmbedded, other.chunks);
    assert.equal(other.replacedShadow, same.generation);
    assert.equal(existsSync(join(dir.path, `${C}@g${same.generation}`)), false, 'the replaced shadow is gone');
    assert.ok(b.embedded >= other.chunks);
    const d = await listGenerations({ dataDir: dir.path, collection: C });
    assert.equal(d.live, 1);
    assert.equal(d.shadow, other.generation);
    // live still answers with A; B's shadow is only for the gate and the canary
    const r = await search('owl', { dataDir: dir.path, collection: C, embedder: a });
    assert.match(r.model, /^test\/hash-embedder \(/);

    // a second reindex with B reuses the first's vectors (the shadow it replaces is the cache)
    const again = await reindex({ ...o, model: 'test/hash-embedder-b' });
    assert.equal(again.chunksEmbedded, 0);
  } finally {
    await dir.cleanup();
  }
});

test('the stored text is what a reindex re-chunks; a version written before it was kept is pieced together from its chunks', async () => {
  const { dir, o } = await setup();
  try {
    const c = await Collection.open(dir.path, C, 'write');
    try {
      const doc = c.db.getDocument('owl-3')!;
      const kept = c.documentSections('owl-3', doc.version);
      assert.equal(kept.map((s) => s.text).join(''), docs('owl', 8, 'owl')[3].text);
      // as an old collection has it: no text rows
      c.db.db.exec('DELETE FROM doc_texts');
      assert.equal(c.documentSections('owl-3', doc.version).map((s) => s.text).join(''), docs('owl', 8, 'owl')[3].text);
    } finally {
      await c.close();
    }
    const r = await reindex({ ...o, chunkTokens: 16, overlapTokens: 0 });
    assert.equal(r.documents, 16);
    assert.ok(r.chunks > 16, 'smaller chunks: more of them');
  } finally {
    await dir.cleanup();
  }
});

test('refusals: promote without a shadow or judgments, rollback without a previous generation, bad judgments', async () => {
  const { dir, o } = await setup();
  try {
    await assert.rejects(promote(o), (e: Error & { code?: string }) => e.code === 'NO_SHADOW');
    await reindex(o);
    await assert.rejects(promote(o), /no held-out judgments/);
    await assert.rejects(rollbackGeneration(o), /no earlier generation/);
    const bad = join(dir.path, 'bad.jsonl');
    await writeFile(bad, '{"query": "owl"}\n');
    await assert.rejects(setJudgments({ ...o, path: bad }), /at least one relevant document/);
    await assert.rejects(setJudgments({ ...o, path: join(dir.path, 'missing.jsonl') }), /not found/);
    await assert.rejects(promote({ ...o, tolerance: 2 }), /tolerance/);
    assert.equal((await listGenerations({ dataDir: dir.path, collection: C })).live, 1);
  } finally {
    await dir.cleanup();
  }
});

test('a build left by a crash is removed by gc; a collection whose first generation is gone is still listed, and deleting it removes every generation', async () => {
  const { dir, o } = await setup();
  try {
    const good = join(dir.path, 'j.jsonl');
    await writeFile(good, '{"query": "owl", "expected": ["owl-1"]}\n');
    await setJudgments({ ...o, path: good });
    const shadow = await reindex({ ...o, model: 'test/hash-embedder-b' });
    await promote({ ...o, mode: 'bm25' });
    // a crashed reindex: a folder and a `building` entry
    const d = await listGenerations({ dataDir: dir.path, collection: C });
    const crashed = d.nextGeneration;
    await mkdir(join(dir.path, `${C}@g${crashed}`, 'vectors'), { recursive: true });
    await writeDeployment(dir.path, {
      ...d,
      nextGeneration: crashed + 1,
      generations: [...d.generations, { ...d.generations[0], id: crashed, dir: `${C}@g${crashed}`, state: 'building' }],
    });
    const gc = await gcGenerations({ dataDir: dir.path, collection: C, keep: 0 });
    assert.deepEqual(gc.generationsRemoved.sort(), [1, crashed].sort());
    assert.equal(existsSync(join(dir.path, C)), false, 'generation 1 folder removed');
    assert.equal(existsSync(join(dir.path, `${C}@g${crashed}`)), false);
    assert.deepEqual(await collectionNames(dir.path), [C]);
    const r = await search('owl', { dataDir: dir.path, collection: C, embedder: await o.loadEmbedder('test/hash-embedder-b') });
    assert.ok(r.results.length > 0);
    assert.equal((await listGenerations({ dataDir: dir.path, collection: C })).live, shadow.generation);

    await deleteCollection({ dataDir: dir.path, collection: C });
    assert.deepEqual(await collectionNames(dir.path), []);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.startsWith(C)), [], 'no generation, deployment or judgments file left');
  } finally {
    await dir.cleanup();
  }
});

test('the CLI: reindex, judgments, generations, promote, rollback and gc on the seeds with the real default model', async () => {
  const dir = await tempDir();
  try {
    const data = ['--data', join(dir.path, 'data')];
    const idx = await runCli(['index', SEEDS_DIR, '--quiet', ...data], { QUARRY_MODELS: modelsDir() });
    assert.equal(idx.code, 0, idx.stderr);
    const docIds = (JSON.parse((await runCli(['search', 'index rebuilt after a model upgrade', '--json', ...data])).stdout) as { results: Array<{ docId: string }> }).results.map((r) => r.docId);
    assert.ok(docIds.length > 0);

    const re = await runCli(['reindex', '--json', ...data]);
    assert.equal(re.code, 0, re.stderr);
    const report = JSON.parse(re.stdout) as { generation: number; chunksEmbedded: number; cacheHitRate: number };
    assert.equal(report.chunksEmbedded, 0);
    assert.equal(report.cacheHitRate, 1);

    const noJudgments = await runCli(['promote', ...data]);
    assert.equal(noJudgments.code, 2);
    assert.match(noJudgments.stderr, /quarry judgments set/);

    const file = join(dir.path, 'held-out.jsonl');
    await writeFile(file, JSON.stringify({ query: 'index rebuilt after a model upgrade', expected: [docIds[0]] }) + '\n');
    const set = await runCli(['judgments', 'set', file, ...data]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /1 held-out queries/);

    const promoted = await runCli(['promote', ...data]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /gate \(vector, 1 held-out queries, tolerance 0\.5 points\): passed/);
    assert.match(promoted.stdout, new RegExp(`promoted: generation ${report.generation} .* is live; generation 1 is kept for rollback`));

    const gens = JSON.parse((await runCli(['generations', '--json', ...data])).stdout) as { live: number; previous: number[] };
    assert.equal(gens.live, report.generation);
    assert.deepEqual(gens.previous, [1]);

    const back = await runCli(['rollback', ...data]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /rolled back: generation 1 .* is live/);
    const gc = await runCli(['gc', '--keep-generations', '0', ...data]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, new RegExp(`retired generation\\(s\\) ${report.generation}; [0-9.]+ MB reclaimed`));

    const audit = await runCli(['audit', '--json', ...data]);
    const actions = (JSON.parse(audit.stdout) as { entries: Array<{ action: string; outcome: string }> }).entries.map((e) => `${e.action}:${e.outcome}`);
    assert.deepEqual(actions, ['collection.create:ok', 'reindex:ok', 'promote:refused', 'judgments.set:ok', 'promote:ok', 'rollback:ok', 'gc:ok']);
  } finally {
    await dir.cleanup();
  }
});
