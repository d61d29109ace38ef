import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { Collection } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import type { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, hashEmbedder, hashServer, json, key, seedCollection, waitFor } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let data: string;
let embedder: HashEmbedder;
let app: FastifyInstance;
let k: string;

interface Observation {
  version: number;
  /** Documents of a batch found by BM25, by a filtered vector search, and by hybrid. */
  bm25: number;
  filtered: number;
  hybrid: number;
  /** The earlier, finished batch. */
  alpha: number;
}

async function observe(prefix: string, word: string): Promise<Observation> {
  const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/collections/c/search', headers: bearer(k), payload });
  const count = (body: string, p: string) => (JSON.parse(body) as { results: Array<{ docId: string }> }).results.filter((r) => r.docId.startsWith(`${p}-`)).length;
  // three requests in flight together, each must see one version
  const [a, b, c, d] = await Promise.all([
    post({ query: word, mode: 'bm25', k: 1000 }),
    post({ query: 'note', mode: 'vector', k: 1000, filter: { batch: prefix } }),
    post({ query: `${word} river`, mode: 'hybrid', k: 1000, window: 1000 }),
    post({ query: 'alpaca', mode: 'bm25', k: 1000 }),
  ]);
  for (const r of [a, b, c, d]) assert.equal(r.statusCode, 200, r.body);
  const versions = new Set([a, b, c, d].map((r) => Number(r.headers['x-quarry-version'])));
  // (requests in flight together may straddle a swap; each one alone must be consistent)
  const version = Number(a.headers['x-quarry-version']);
  assert.ok(versions.size <= 2);
  return { version, bm25: count(a.body, prefix), filtered: count(b.body, prefix), hybrid: count(c.body, prefix), alpha: count(d.body, 'alpha') };
}

before(async () => {
  dir = await tempDir('quarry-server-consistency-');
  data = `${dir.path}/data`;
  embedder = await hashEmbedder();
  await seedCollection(data, 'c', embedder, docs('base', 5, 'heron'));
  k = await key(data, 'write', ['c']);
  app = await hashServer(data, embedder, { ingestBatchChunks: 2 });
  await app.ready();
  await waitFor('readiness', async () => (await app.inject({ method: 'GET', url: '/readyz', headers: bearer(k) })).statusCode === 200);
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

test('searches during another process\'s ingest each see one sealed version, never part of a batch', async () => {
  // another process finishes a batch: the server's view (version 1) is now behind
  await upsertDocuments(docs('alpha', 10, 'alpaca'), { dataDir: data, collection: 'c', embedder });
  const control = await Collection.open(data, 'c', 'read');
  const partialAtHead: number[] = [];
  const during: Array<Promise<Observation>> = [];
  try {
    // ...and starts another, committed two documents at a time
    await upsertDocuments(docs('zebra', 40, 'zebrafish'), {
      dataDir: data,
      collection: 'c',
      embedder,
      batchChunks: 2,
      onCommit: () => {
        // what an unpinned reader would see right now: part of the batch
        partialAtHead.push([...control.db.liveDocs().keys()].filter((d) => d.startsWith('zebra-')).length);
        during.push(observe('zebra', 'zebrafish'));
      },
    });
  } finally {
    await control.close();
  }
  assert.ok(partialAtHead.some((n) => n > 0 && n < 40), `the live set at head was partial during the ingest: ${partialAtHead.join(',')}`);
  const seen = await Promise.all(during);
  const afterwards = await observe('zebra', 'zebrafish');
  assert.ok(seen.length >= 10);
  for (const o of [...seen, afterwards]) {
    if (o.version === 2) assert.deepEqual(o, { version: 2, bm25: 0, filtered: 0, hybrid: 0, alpha: 10 });
    else assert.deepEqual(o, { version: 3, bm25: 40, filtered: 40, hybrid: 40, alpha: 10 });
  }
  assert.ok(seen.some((o) => o.version === 2), 'some searches ran while the batch was being written');
  assert.equal(afterwards.version, 3);
});

test('searches during an ingest through the API each see one version; the writer reads its own write', async () => {
  const upsert = app.inject({ method: 'POST', url: '/collections/c/documents', headers: bearer(k), payload: { documents: docs('yak', 30, 'yakherd') } });
  let done = false;
  void upsert.then(() => (done = true));
  const seen: Observation[] = [];
  while (!done) seen.push(await observe('yak', 'yakherd'));
  const res = await upsert;
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(json(res).generation, 4);
  const next = await observe('yak', 'yakherd');
  assert.deepEqual(next, { version: 4, bm25: 30, filtered: 30, hybrid: 30, alpha: 10 });
  assert.ok(seen.length > 0);
  for (const o of seen) {
    if (o.version === 3) assert.deepEqual(o, { version: 3, bm25: 0, filtered: 0, hybrid: 0, alpha: 10 });
    else assert.deepEqual(o, { version: 4, bm25: 30, filtered: 30, hybrid: 30, alpha: 10 });
  }
});
