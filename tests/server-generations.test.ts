/**
 * Model generations through the service: reindex as a background job while live serves,
 * the canary comparing shadow with live without changing answers, promotion through the
 * gate, generation rollback, the audit trail, and searches already running finishing on the
 * generation they started on. Two stand-in "models" (hash embedders of different ids).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { promote, reindex } from '../src/api/generations.js';
import type { Embedder } from '../src/embed/embedder.js';
import { ModelNotProvisionedError } from '../src/errors.js';
import { buildServer } from '../src/server/app.js';
import { CollectionRegistry } from '../src/server/registry.js';
import { readAudit } from '../src/observe/audit.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, json, key, seedCollection, waitFor } from './support/server.js';

const C = 'notes';
const MODEL_B = 'test/hash-embedder-b';

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
let a: HashEmbedder;
let b: HashEmbedder;
let admin: string;
let reader: string;
let adminId: string;

const loadEmbedder = async (ref: string): Promise<Embedder> => {
  if (ref.startsWith(`${MODEL_B}`)) return b;
  if (ref.startsWith('test/hash-embedder')) return a;
  throw new ModelNotProvisionedError(ref, '(test)', 'only the hash embedders exist in these tests');
};

before(async () => {
  dir = await tempDir();
  a = await HashEmbedder.create();
  b = await HashEmbedder.create(16, MODEL_B);
  await seedCollection(dir.path, C, a, [...docs('owl', 12, 'owl'), ...docs('fox', 12, 'fox')]);
  admin = await key(dir.path, 'admin', [C]);
  reader = await key(dir.path, 'read', [C]);
  adminId = admin.split('_')[1];
  app = await buildServer({ dataDir: dir.path, logger: process.env.DEBUG_TEST ? { level: 'warn' } : false, loadEmbedder, canaryShare: 1 });
  await app.ready();
  await waitFor('ready', async () => (await app.inject({ method: 'GET', url: '/readyz', headers: bearer(admin) })).statusCode === 200);
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

const search = async (query: string) => {
  const res = await app.inject({ method: 'POST', url: `/collections/${C}/search`, headers: bearer(reader), payload: { query, mode: 'hybrid', k: 5 } });
  assert.equal(res.statusCode, 200, res.body);
  return json<{ model: string; results: Array<{ docId: string; score: number }> }>(res);
};

const generations = async () => json<Record<string, unknown> & { live: number; shadow: number | null; reindex: { status: string } | null; canary: { compared: number; meanOverlapAt10: number } | null }>(
  await app.inject({ method: 'GET', url: `/collections/${C}/generations`, headers: bearer(reader) }),
);

test('reindex runs as a job while live keeps answering with its own model; the canary compares without changing answers', async () => {
  const before = await search('owl near the river');
  assert.match(before.model, /^test\/hash-embedder \(/);

  const res = await app.inject({ method: 'POST', url: `/collections/${C}/generations`, headers: bearer(admin), payload: { model: MODEL_B } });
  assert.equal(res.statusCode, 202, res.body);
  const again = await app.inject({ method: 'POST', url: `/collections/${C}/generations`, headers: bearer(admin), payload: { model: MODEL_B } });
  assert.ok([202, 409].includes(again.statusCode), again.body); // a second while the first runs: refused, or after it: fine
  await waitFor('the reindex job', async () => (await generations()).reindex?.status === 'done');
  const g = await generations();
  assert.equal(g.live, 1);
  assert.equal(typeof g.shadow, 'number');

  // live answers the same as before; the shadow is compared in the background
  for (let i = 0; i < 5; i++) {
    const now = await search('owl near the river');
    assert.equal(now.model, before.model);
    assert.deepEqual(now.results, before.results);
  }
  // the first sampled search opens the shadow; the ones after it are compared
  await waitFor('canary comparisons', async () => {
    assert.deepEqual((await search('owl near the river')).results, before.results);
    return ((await generations()).canary?.compared ?? 0) >= 2;
  });
  const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(admin) })).body;
  assert.match(metrics, new RegExp(`quarry_canary_queries_total\\{collection="${C}",outcome="compared"\\} [1-9]`));
  assert.match(metrics, /quarry_canary_overlap_at_10_count\{collection="notes"\} [1-9]/);
  // BM25 is the same in both generations, so hybrid top-10 documents overlap in part at least
  assert.ok((await generations()).canary!.meanOverlapAt10 > 0);
});

test('promotion through the gate switches the model the collection answers with; rollback returns; both audited with the key', async () => {
  const noJudgments = await app.inject({ method: 'POST', url: `/collections/${C}/promote`, headers: bearer(admin), payload: {} });
  assert.equal(noJudgments.statusCode, 400, noJudgments.body);
  assert.match(noJudgments.body, /held-out judgments/);

  const put = await app.inject({
    method: 'PUT',
    url: `/collections/${C}/judgments`,
    headers: bearer(admin),
    payload: { queries: [{ query: 'owl', expected: ['owl-1', 'owl-2'] }, { query: 'fox river', relevant: { 'fox-3': 2 } }] },
  });
  assert.equal(put.statusCode, 200, put.body);
  assert.equal(json<{ queries: number }>(put).queries, 2);

  // BM25 does not depend on the model: both generations score the same, so the gate passes
  const res = await app.inject({ method: 'POST', url: `/collections/${C}/promote`, headers: bearer(admin), payload: { mode: 'bm25' } });
  assert.equal(res.statusCode, 200, res.body);
  const r = json<{ live: number; previous: number; gate: { passed: boolean; live: { 'ndcg@10': number }; shadow: { 'ndcg@10': number } } }>(res);
  assert.equal(r.previous, 1);
  assert.equal(r.gate.passed, true);
  assert.equal(r.gate.shadow['ndcg@10'], r.gate.live['ndcg@10']);
  assert.match((await search('owl')).model, /^test\/hash-embedder-b /);

  const back = await app.inject({ method: 'POST', url: `/collections/${C}/generations/rollback`, headers: bearer(admin) });
  assert.equal(back.statusCode, 200, back.body);
  assert.equal(json<{ live: number }>(back).live, 1);
  assert.match((await search('owl')).model, /^test\/hash-embedder \(/);
  const none = await app.inject({ method: 'POST', url: `/collections/${C}/generations/rollback`, headers: bearer(admin) });
  assert.equal(none.statusCode, 400);
  assert.match(none.body, /no earlier generation/);

  // a content rollback over HTTP is audited with the key too
  const versionBack = await app.inject({ method: 'POST', url: `/collections/${C}/rollback`, headers: bearer(admin), payload: { version: 1 } });
  assert.ok([200, 400].includes(versionBack.statusCode), versionBack.body);

  const audit = await readAudit(dir.path, { target: C });
  const mine = audit.filter((e) => e.actor === `key:${adminId}`).map((e) => `${e.action}:${e.outcome}`);
  for (const want of ['reindex:ok', 'judgments.set:ok', 'promote:refused', 'promote:ok', 'rollback:ok', 'rollback:refused']) assert.ok(mine.includes(want), `${want} in ${mine.join(', ')}`);
  const versionEntry = audit.at(-1)!;
  assert.equal(versionEntry.actor, `key:${adminId}`);
  assert.equal(versionEntry.action, 'rollback');
  assert.equal((versionEntry.detail as { kind?: string } | undefined)?.kind ?? 'version', 'version');
});

test('a search holding the old generation finishes on it; the next one gets the new model', async () => {
  const dataDir = dir.path;
  await reindex({ dataDir, collection: C, model: MODEL_B, loadEmbedder });
  const registry = new CollectionRegistry({ dataDir, loadEmbedder });
  try {
    await registry.start();
    const lease = await registry.acquire(C);
    assert.equal(lease.embedder, a);
    const oldDir = lease.view.dir;
    await registry.deploymentChange(C, () => promote({ dataDir, collection: C, loadEmbedder, mode: 'bm25' }));
    // the borrowed view still answers, with its own model, from its own folder
    const hits = await lease.view.session.retrieve('owl', { mode: 'vector', k: 3, observe: false });
    assert.equal(hits.hits.length, 3);
    assert.ok(existsSync(join(oldDir, 'manifest.json')));
    lease.release();
    const next = await registry.acquire(C);
    assert.equal(next.embedder, b);
    assert.notEqual(next.view.dir, oldDir);
    next.release();
  } finally {
    await registry.close();
  }
});
