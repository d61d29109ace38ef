/**
 * Overload (issue 14, item 6): searches past the running and waiting bounds are refused at
 * once with 429 and Retry-After; the time a search waited for its turn is measured and is
 * part of the latency the server reports.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { defaultAdmissionLimits } from '../src/server/admission.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, hashEmbedder, hashServer, json, key, seedCollection, waitFor } from './support/server.js';

/** The hash embedder, whose query embedding waits at a gate for queries that ask to ("slowly"). */
class GatedEmbedder extends HashEmbedder {
  gate: Promise<void> = Promise.resolve();
  entered = 0;
  override async embedQuery(text: string): Promise<Float32Array> {
    if (text.includes('slowly')) {
      this.entered++;
      await this.gate;
    }
    return super.embedQuery(text);
  }
}

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
let gated: GatedEmbedder;
let k: string;

before(async () => {
  dir = await tempDir('quarry-server-overload-');
  const base = await hashEmbedder();
  gated = new GatedEmbedder(base.tokenizer);
  await seedCollection(dir.path, 'notes', gated, docs('n', 5, 'heron'));
  k = await key(dir.path, 'admin', ['*']);
  app = await hashServer(dir.path, gated, { admission: { concurrency: 1, queue: 1 } });
  await app.ready();
  await waitFor('ready', async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

const search = (query: string) => app.inject({ method: 'POST', url: '/collections/notes/search', headers: bearer(k), payload: { query, mode: 'hybrid' } });

test('past the bound a search answers 429 with Retry-After at once; the queued one waits, and its wait is reported', async () => {
  let open!: () => void;
  gated.gate = new Promise<void>((r) => (open = r));
  const running = search('heron slowly');
  await waitFor('the first search to run', async () => gated.entered === 1);
  const queued = search('heron');
  await new Promise((r) => setTimeout(r, 30)); // let it join the queue
  let firstDone = false;
  void running.then(() => (firstDone = true));

  const shed = await search('heron river');
  assert.equal(firstDone, false, 'the refusal came while the first search still ran');
  assert.equal(shed.statusCode, 429, shed.body);
  assert.equal(json<{ error: { code: string } }>(shed).error.code, 'OVERLOADED');
  assert.ok(Number(shed.headers['retry-after']) >= 1, String(shed.headers['retry-after']));

  await new Promise((r) => setTimeout(r, 60)); // the queued search waits this long at least
  open();
  const [a, b] = await Promise.all([running, queued]);
  assert.equal(a.statusCode, 200, a.body);
  assert.equal(b.statusCode, 200, b.body);
  assert.equal(Number(a.headers['x-quarry-queue-ms']), 0);
  const waited = Number(b.headers['x-quarry-queue-ms']);
  assert.ok(waited >= 60, `waited ${waited} ms`);
  // the latency the server reports counts the wait: the answer's tookMs and the stats window
  assert.ok(json<{ tookMs: number }>(b).tookMs >= waited, `tookMs ${json<{ tookMs: number }>(b).tookMs} < ${waited}`);
  const stats = json<{ overall: { max: number } }>(await app.inject({ method: 'GET', url: '/collections/notes/stats', headers: bearer(k) }));
  assert.ok(stats.overall.max >= waited, JSON.stringify(stats.overall));

  const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(k) })).body;
  assert.match(metrics, /quarry_search_admissions_total\{outcome="shed"\} [1-9]/);
  const waits = /quarry_search_queue_wait_seconds_count (\d+)/.exec(metrics);
  assert.ok(waits && Number(waits[1]) >= 2, 'the queue wait histogram counts every admitted search');
  const slow = /quarry_search_queue_wait_seconds_bucket\{le="0.05"\} (\d+)/.exec(metrics);
  assert.ok(slow && Number(slow[1]) < Number(waits[1]), 'the wait of the queued search is in a bucket above 50 ms');

  // with the load gone, searches run at once again
  const after = await search('heron');
  assert.equal(after.statusCode, 200);
});

test('the bounds default to one search at a time and 8 waiting per core, and can be set by environment', () => {
  const cores = availableParallelism();
  assert.deepEqual(defaultAdmissionLimits({}), { concurrency: 1, queue: 8 * cores });
  assert.deepEqual(defaultAdmissionLimits({ QUARRY_MAX_SEARCHES: '3', QUARRY_MAX_QUEUED_SEARCHES: '0' }), { concurrency: 3, queue: 0 });
  assert.deepEqual(defaultAdmissionLimits({ QUARRY_MAX_SEARCHES: '3', QUARRY_QUEUE_TARGET_MS: '25' }), { concurrency: 3, queue: 8 * cores, targetWaitMs: 25 });
  assert.throws(() => defaultAdmissionLimits({ QUARRY_MAX_SEARCHES: '0' }), /QUARRY_MAX_SEARCHES/);
  assert.throws(() => defaultAdmissionLimits({ QUARRY_MAX_QUEUED_SEARCHES: 'many' }), /QUARRY_MAX_QUEUED_SEARCHES/);
});

async function withServer(limits: { concurrency: number; queue: number; targetWaitMs: number }, f: (q: (query: string) => Promise<LightMyRequestResponse>) => Promise<void>): Promise<void> {
  const server = await hashServer(dir.path, gated, { admission: limits });
  try {
    await server.ready();
    await waitFor('ready', async () => (await server.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
    await f((query) => server.inject({ method: 'POST', url: '/collections/notes/search', headers: bearer(k), payload: { query, mode: query.includes('slowly') ? 'hybrid' : 'bm25' } }));
  } finally {
    await server.close();
  }
}

test('a search that would wait longer than the target is shed though the queue has room; within the target a burst is queued whole', async () => {
  for (const [targetWaitMs, expected] of [
    [1, [200, 200, 429, 429, 429]],
    [60_000, [200, 200, 200, 200, 200]],
  ] as const) {
    await withServer({ concurrency: 1, queue: 10, targetWaitMs }, async (q) => {
      let open!: () => void;
      gated.gate = new Promise<void>((r) => (open = r));
      gated.entered = 0;
      const running = q('heron slowly');
      await waitFor('the first search to run', async () => gated.entered === 1);
      // one waits (nothing ahead of it: no wait expected), the others would wait behind it
      const queued = [q('heron')];
      await new Promise((r) => setTimeout(r, 20));
      const more = [q('river'), q('heron river'), q('near the river')];
      const early = await Promise.race([Promise.all(more).then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
      // shed ones are answered while the first search still holds its turn
      if (targetWaitMs === 1) assert.equal(early, 'answered');
      open();
      const statuses = (await Promise.all([running, ...queued, ...more])).map((r) => r.statusCode);
      assert.deepEqual(statuses, expected, `target ${targetWaitMs} ms`);
    });
  }
});

test('a search waiting for its collection to warm holds no turn: other collections keep answering', async () => {
  await seedCollection(dir.path, 'late', gated, docs('l', 3, 'otter'));
  let warm!: () => void;
  const warmed = new Promise<void>((r) => (warm = r));
  const server = await hashServer(dir.path, gated, {
    admission: { concurrency: 1, queue: 0 },
    beforeWarmup: async (name) => {
      if (name === 'late') await warmed;
    },
  });
  try {
    await server.ready();
    const search = (c: string, query: string) => server.inject({ method: 'POST', url: `/collections/${c}/search`, headers: bearer(k), payload: { query, mode: 'bm25' } });
    await waitFor('notes to serve', async () => (await search('notes', 'heron')).statusCode === 200);
    const waiting = search('late', 'otter');
    await new Promise((r) => setTimeout(r, 50));
    // one search at a time and no queue: it is answered only because the one above holds no turn
    const other = await search('notes', 'heron');
    assert.equal(other.statusCode, 200, other.body);
    warm();
    assert.equal((await waiting).statusCode, 200);
  } finally {
    await server.close();
  }
});
