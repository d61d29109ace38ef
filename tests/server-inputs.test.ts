/**
 * Names and inputs (issue 14, item 5): collection names that would collide with quarry's own
 * files are refused, no half-made collection folder is left behind, nesting is bounded, a
 * failed collection's card answers 503, every 5xx is logged under the request id it cites,
 * and a query with nothing to search for is refused.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { search, validateSearchInput } from '../src/api/search.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { validateCollectionName } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import { bearer, docs, hashEmbedder, hashServer, HASH_MODEL, json, key, logCapture, seedCollection, waitFor } from './support/server.js';
import type { HashEmbedder } from './support/hash-embedder.js';

type ErrorReply = { error: { code: string; field?: string; message: string } };

let dir: { path: string; cleanup: () => Promise<void> };
let data: string;
let embedder: HashEmbedder;
let app: FastifyInstance;
let admin: string;
const logs = logCapture();

before(async () => {
  dir = await tempDir('quarry-server-inputs-');
  data = join(dir.path, 'data');
  embedder = await hashEmbedder();
  await seedCollection(data, 'notes', embedder, docs('n', 4, 'heron'));
  await seedCollection(data, 'broken', embedder, docs('b', 2, 'heron'));
  await writeFile(join(data, 'broken', 'meta.sqlite'), 'not a database '.repeat(200)); // fails to load
  admin = await key(data, 'admin', ['*']);
  const datasets = join(dir.path, 'datasets');
  const ds = join(datasets, 'tiny');
  await mkdir(join(ds, 'qrels'), { recursive: true });
  await writeFile(join(ds, 'corpus.jsonl'), [{ _id: 'd1', text: 'Grey herons wade in shallow water.' }, { _id: 'd2', text: 'Otters eat crayfish.' }].map((d) => JSON.stringify(d)).join('\n') + '\n');
  await writeFile(join(ds, 'queries.jsonl'), JSON.stringify({ _id: 'q1', text: 'herons wade' }) + '\n');
  await writeFile(join(ds, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
  app = await hashServer(data, embedder, { logger: { stream: logs.stream }, datasetsRoot: datasets });
  await app.ready();
  await waitFor('ready', async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

const req = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: bearer(admin), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

async function evaluate(collection: string, baseline: boolean): Promise<{ requestId: string; job: { status: string; error?: { code: string; message: string } } }> {
  const started = await req('POST', `/collections/${collection}/evaluations`, { dataset: 'tiny', model: HASH_MODEL, modes: ['bm25'], baseline });
  assert.equal(started.statusCode, 202, started.body);
  const id = json<{ id: string }>(started).id;
  const job = await waitFor('the evaluation', async () => {
    const j = json<{ status: string; error?: { code: string; message: string } }>(await req('GET', `/collections/${collection}/evaluations/${id}`));
    return j.status !== 'running' ? j : undefined;
  });
  return { requestId: String(started.headers['x-request-id']), job };
}

test("no collection may be named after anything quarry keeps in the data folder (400), and none is left half-made", async () => {
  // fill the data folder with what quarry writes there: keys, audit log, baselines, evaluation history, judgments
  assert.equal((await evaluate('ev', true)).job.status, 'done');
  assert.equal((await req('PUT', '/collections/notes/judgments', { queries: [{ query: 'heron', expected: ['n-0'] }] })).statusCode, 200);
  const held = await readdir(data);
  for (const f of ['keys.json', 'audit.log', 'eval-baselines.json', '.eval-history', 'notes@judgments.json']) assert.ok(held.includes(f), `${f} in ${held.join(', ')}`);
  const collections = new Set(['notes', 'broken', 'ev']);
  const names = [...held.filter((f) => !collections.has(f)), 'KEYS.JSON', 'Audit.Log', 'audit.log.1', 'notes.creating-123', 'x.lock', 'x.jsonl', 'x.tmp'];
  for (const name of names) {
    const res = await req('POST', '/collections', { name, model: HASH_MODEL });
    assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
    assert.equal(json<ErrorReply>(res).error.code, 'INVALID_INPUT');
    assert.throws(() => validateCollectionName(name), /invalid collection name/, name);
  }
  // names that merely hold a dot stay allowed
  for (const name of ['v1.2', 'my.logistics', 'docs.jsonish']) assert.equal(validateCollectionName(name), name);
  // a file or a foreign folder of that name: refused, untouched
  await writeFile(join(data, 'readme'), 'not a collection');
  await mkdir(join(data, 'stuff'));
  await writeFile(join(data, 'stuff', 'x'), 'y');
  for (const name of ['readme', 'stuff']) {
    const res = await req('POST', '/collections', { name, model: HASH_MODEL });
    assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
    assert.ok(!res.body.includes(data), res.body);
  }
  const after = await readdir(data);
  assert.deepEqual(after.filter((f) => f.includes('.creating-')), []);
  assert.deepEqual(after.filter((f) => !held.includes(f)).sort(), ['readme', 'stuff']);
  // the baselines still load: evaluations keep working
  assert.equal((await evaluate('ev2', true)).job.status, 'done');
});

test('nesting is bounded: a deep body or deep metadata answers 400, never 500 (stack overflow)', async () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  for (const n of [100, 1_000_000]) {
    const res = await app.inject({
      method: 'POST',
      url: '/collections/notes/documents',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      payload: `{"documents":[{"id":"deep","text":"deep","metadata":{"a":${deep(n)}}}]}`,
    });
    assert.equal(res.statusCode, 400, `${n}: ${res.body.slice(0, 200)}`);
    assert.equal(json<ErrorReply>(res).error.field, 'body');
  }
  // within the body's bound, past metadata's: refused with the field
  let metadata: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 20; i++) metadata = { a: metadata };
  const res = await req('POST', '/collections/notes/documents', { documents: [{ id: 'deep', text: 'deep', metadata }] });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(json<ErrorReply>(res).error.field, 'documents/0/metadata');
  // the library refuses it too, and a million levels do not overflow its check
  let huge: Record<string, unknown> = {};
  for (let i = 0; i < 1_000_000; i++) huge = { a: huge };
  for (const m of [metadata, huge]) {
    await assert.rejects(upsertDocuments([{ id: 'deep', text: 'deep', metadata: m }], { dataDir: data, collection: 'notes', embedder }), /nested more than 16 levels/);
  }
  // a search filter nested past the body bound
  const f = await app.inject({ method: 'POST', url: '/collections/notes/search', headers: { ...bearer(admin), 'content-type': 'application/json' }, payload: `{"query":"heron","filter":{"a":${deep(1000)}}}` });
  assert.equal(f.statusCode, 400);
});

test("a collection that failed to load: its card answers 503 with the reason, the others' cards 200", async () => {
  const res = await req('GET', '/collections/broken/card');
  assert.equal(res.statusCode, 503, res.body);
  const e = json<ErrorReply>(res).error;
  assert.equal(e.code, 'COLLECTION_UNAVAILABLE');
  assert.match(e.message, /broken.*meta\.sqlite/);
  assert.ok(!res.body.includes(data));
  assert.equal((await req('GET', '/collections/notes/card')).statusCode, 200);
});

test('a 5xx that cites a request id is logged under it, an evaluation job failure too', async () => {
  // the baselines file cannot be replaced (a folder took its name): the job fails inside the server
  const { rm } = await import('node:fs/promises');
  await rm(join(data, 'eval-baselines.json'), { force: true });
  await mkdir(join(data, 'eval-baselines.json', 'blocker'), { recursive: true });
  const { requestId, job } = await evaluate('ev3', true);
  assert.equal(job.status, 'failed');
  assert.equal(job.error?.code, 'INTERNAL');
  const cited = /request id (\S+)$/.exec(job.error!.message)?.[1];
  assert.equal(cited, requestId);
  const lines = logs.lines().filter((l) => l.reqId === cited && (l.level as number) >= 50);
  assert.ok(lines.length >= 1, `no error line under request id ${cited}`);
  assert.ok(lines.some((l) => (l.err as { message?: string } | undefined)?.message), JSON.stringify(lines));
  await rm(join(data, 'eval-baselines.json'), { recursive: true, force: true });
});

test('a query with nothing to search for (zero-width, control, format characters) is refused like a blank one', async () => {
  for (const query of ['\u200b', '\u0001\u0002\u0003', '\ufeff\u2060 \u200d', '\u00a0\u3000', '\u3164']) {
    const res = await req('POST', '/collections/notes/search', { query, mode: 'hybrid' });
    assert.equal(res.statusCode, 400, `${JSON.stringify(query)}: ${res.body}`);
    assert.equal(json<ErrorReply>(res).error.field, 'query');
    assert.throws(() => validateSearchInput(query, 10, undefined), /query is empty/);
    await assert.rejects(search(query, { dataDir: data, collection: 'notes', embedder, mode: 'bm25' }), /query is empty/);
  }
  const ok = await req('POST', '/collections/notes/search', { query: 'heron\u200b', mode: 'bm25' });
  assert.equal(ok.statusCode, 200, ok.body);
});
