/**
 * The API pieces the web page needs (and any other client may use): GET /session, search
 * highlights, live latency percentiles, the evaluation history, the memory estimate; and the
 * routes that serve the page itself.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { historyFile, readEvalHistory } from '../src/eval/history.js';
import { analyze } from '../src/lexical/analyzer.js';
import { LatencyWindow, LatencyWindows } from '../src/observe/latency-window.js';
import type { ServerContext } from '../src/server/app.js';
import { CONTENT_SECURITY_POLICY, registerUiRoutes } from '../src/server/routes/ui.js';
import { tempDir } from './support/env.js';
import type { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, HASH_MODEL, hashEmbedder, hashServer, json, key, seedCollection, waitFor } from './support/server.js';

const C = 'notes';
let dir: { path: string; cleanup: () => Promise<void> };
let data: string;
let datasets: string;
let embedder: HashEmbedder;
let app: FastifyInstance;
const keys: Record<string, string> = {};

type Result = { text: string; highlights?: Array<[number, number]>; docId: string };
type ErrorReply = { error: { code: string; message: string } };

const get = (url: string, k = keys.admin) => app.inject({ method: 'GET', url, headers: bearer(k) });
const post = (url: string, payload: Record<string, unknown>, k = keys.admin) => app.inject({ method: 'POST', url, headers: bearer(k), payload });

before(async () => {
  dir = await tempDir('quarry-server-ui-api-');
  data = join(dir.path, 'data');
  datasets = join(dir.path, 'datasets');
  embedder = await hashEmbedder();
  await seedCollection(data, C, embedder, [
    ...docs('a', 4, 'heron'),
    { id: 'runner', text: 'She runs along the river every morning; running keeps her calm. The RUNNERS wave.' },
    { id: 'order', text: 'Order ORD-2024-00042 left the Hamburg warehouse on Monday.' },
  ]);
  keys.admin = await key(data, 'admin', ['*']);
  keys.read = await key(data, 'read', [C]);
  app = await hashServer(data, embedder, { datasetsRoot: datasets });
  await app.ready();
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

test('GET /session tells the calling key its id, scope and collections, never its secret', async () => {
  const admin = json<Record<string, unknown>>(await get('/session'));
  assert.equal(admin.keyId, keys.admin.split('_')[1]);
  assert.equal(admin.scope, 'admin');
  assert.deepEqual(admin.collections, ['*']);
  const read = json<Record<string, unknown>>(await get('/session', keys.read));
  assert.equal(read.scope, 'read');
  assert.deepEqual(read.collections, [C]);
  assert.ok(!JSON.stringify(read).includes(keys.read.split('_')[2]), 'the secret is echoed');
  const none = await app.inject({ method: 'GET', url: '/session' });
  assert.equal(none.statusCode, 401);
  const wrong = await get('/session', `qk_${'0'.repeat(12)}_${'1'.repeat(64)}`);
  assert.equal(wrong.statusCode, 401);
  assert.match(json<ErrorReply>(wrong).error.message, /not valid/);
});

test('search with highlight: true marks where the query terms occur, by the BM25 analyzer', async () => {
  const res = await post(`/collections/${C}/search`, { query: 'running', mode: 'bm25', k: 5, highlight: true });
  assert.equal(res.statusCode, 200, res.body);
  const results = json<{ results: Result[] }>(res).results;
  assert.equal(results[0].docId, 'runner');
  const marked = results[0].highlights!.map(([s, e]) => results[0].text.slice(s, e));
  assert.deepEqual(marked, ['runs', 'running'], 'stemming: "running" marks "runs"; "RUNNERS" is another stem');
  // every BM25 hit holds a query term, so every result has a mark, and every mark holds a query term
  const terms = new Set(analyze('heron river'));
  const hits = json<{ results: Result[] }>(await post(`/collections/${C}/search`, { query: 'heron river', mode: 'bm25', k: 10, highlight: true })).results;
  assert.ok(hits.length >= 5);
  for (const r of hits) {
    assert.ok(r.highlights && r.highlights.length > 0, `${r.docId} has no highlight`);
    for (const [s, e] of r.highlights) assert.ok(analyze(r.text.slice(s, e)).some((t) => terms.has(t)), `"${r.text.slice(s, e)}" is not a query term`);
  }
  const id = json<{ results: Result[] }>(await post(`/collections/${C}/search`, { query: 'ORD-2024-00042', mode: 'hybrid', k: 1, highlight: true })).results[0];
  assert.deepEqual(id.highlights!.map(([s, e]) => id.text.slice(s, e)), ['ORD-2024-00042']);
  // off by default: the answer stays the object `quarry search --json` prints
  const plain = json<{ results: Result[] }>(await post(`/collections/${C}/search`, { query: 'running', mode: 'bm25', k: 5 })).results;
  assert.ok(plain.every((r) => !('highlights' in r)));
  const bad = await post(`/collections/${C}/search`, { query: 'x', highlight: 'yes' });
  assert.equal(bad.statusCode, 400);
});

test('GET /collections/{name}/stats: p50/p95/p99 per mode over the searches this server answered', async () => {
  const before = json<{ searches: { total: number }; modes: Record<string, { count: number }> }>(await get(`/collections/${C}/stats`, keys.read));
  const runs: Array<[string, Record<string, unknown>]> = [
    ['vector', { mode: 'vector' }],
    ['vector', { mode: 'vector' }],
    ['vector', { mode: 'vector' }],
    ['bm25', { mode: 'bm25' }],
    ['hybrid', { mode: 'hybrid' }],
    ['hybrid', {}],
  ];
  for (const [, extra] of runs) assert.equal((await post(`/collections/${C}/search`, { query: 'heron by the river', ...extra })).statusCode, 200);
  // a refused search is not a latency sample
  assert.equal((await post(`/collections/${C}/search`, { query: 'x', k: 0 })).statusCode, 400);
  const res = await get(`/collections/${C}/stats`, keys.read);
  assert.equal(res.statusCode, 200, res.body);
  const s = json<{
    collection: string;
    window: { maxSamples: number; maxAgeSeconds: number };
    searches: { total: number; inWindow: number };
    overall: { count: number; p50: number; p95: number; p99: number; max: number };
    modes: Record<string, { count: number; p50: number; p95: number; p99: number; max: number }>;
  }>(res);
  assert.equal(s.collection, C);
  assert.equal(s.searches.total - before.searches.total, runs.length);
  const added = (m: string) => s.modes[m].count - (before.modes[m]?.count ?? 0);
  assert.equal(added('vector'), 3);
  assert.equal(added('bm25'), 1);
  assert.equal(added('hybrid'), 2);
  assert.equal(s.overall.count, Object.values(s.modes).reduce((a, m) => a + m.count, 0));
  for (const l of [s.overall, ...Object.values(s.modes)]) {
    assert.ok(l.p50 > 0 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
  }
  assert.ok(s.window.maxSamples > 0 && s.window.maxAgeSeconds > 0);
  const missing = await get('/collections/nothing-here/stats');
  assert.equal(missing.statusCode, 404);
});

test('latency window: keeps the most recent samples, drops old ones, nearest-rank percentiles', () => {
  let now = 0;
  const w = new LatencyWindow({ capacity: 100, maxAgeMs: 1000, now: () => now });
  for (let i = 1; i <= 150; i++) w.record(i); // 1..150: the ring keeps 51..150
  assert.equal(w.total, 150);
  const s = w.summary();
  assert.equal(s.count, 100);
  assert.equal(s.p50, 100);
  assert.equal(s.p95, 145);
  assert.equal(s.p99, 149);
  assert.equal(s.max, 150);
  now = 600;
  for (let i = 0; i < 10; i++) w.record(1000);
  now = 1300; // the first 90 in the ring are now older than 1 s
  const later = w.summary();
  assert.equal(later.count, 10);
  assert.equal(later.p50, 1000);
  w.record(Number.NaN);
  w.record(-1);
  assert.equal(w.total, 160, 'bad samples are ignored');
  now = 5000;
  assert.deepEqual(w.summary(), { count: 0, p50: null, p95: null, p99: null, max: null });

  const all = new LatencyWindows({ capacity: 10 });
  all.record('c', 'vector', 1);
  all.record('c', 'bm25', 3);
  const st = all.stats('c');
  assert.deepEqual(Object.keys(st.modes), ['bm25', 'vector']);
  assert.equal(st.overall.count, 2);
  assert.equal(all.stats('other').searches.total, 0);
});

async function tinyDataset(name: string): Promise<void> {
  const ds = join(datasets, name);
  await mkdir(join(ds, 'qrels'), { recursive: true });
  const corpus = [
    { _id: 'd1', title: 'Herons', text: 'Grey herons wade in shallow water to catch fish.' },
    { _id: 'd2', title: 'Otters', text: 'River otters slide down muddy banks and eat crayfish.' },
    { _id: 'd3', title: 'Kestrels', text: 'A kestrel hovers over meadows looking for voles.' },
  ];
  await writeFile(join(ds, 'corpus.jsonl'), corpus.map((d) => JSON.stringify(d)).join('\n') + '\n');
  await writeFile(join(ds, 'queries.jsonl'), [{ _id: 'q1', text: 'herons catch fish' }, { _id: 'q2', text: 'otters crayfish' }].map((q) => JSON.stringify(q)).join('\n') + '\n');
  await writeFile(join(ds, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n');
}

async function evaluate(collection: string, modes: string[], first = false): Promise<{ id: string; report: { modes: Array<Record<string, unknown>> } }> {
  // the model names the new collection's model; a later run uses the collection's own
  const started = await post(`/collections/${collection}/evaluations`, { dataset: 'tiny', modes, ...(first ? { model: HASH_MODEL } : {}) });
  assert.equal(started.statusCode, 202, started.body);
  const id = json<{ id: string }>(started).id;
  const done = await waitFor('the evaluation', async () => {
    const j = json<{ status: string; report?: { modes: Array<Record<string, unknown>> }; error?: unknown }>(await get(`/collections/${collection}/evaluations/${id}`));
    return j.status !== 'running' ? j : undefined;
  });
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  return { id, report: done.report! };
}

type History = {
  collection: string;
  skipped: number;
  evaluations: Array<{ at: string; job: string; dataset: string; k: number; queries: number; modes: Array<{ mode: string; metrics: Record<string, number>; latencyMs: { p50: number; p99: number } }> }>;
};

test('evaluation history: every finished run, oldest first, kept across restarts, a torn last line skipped', async () => {
  await tinyDataset('tiny');
  const first = await evaluate('ev', ['bm25', 'vector'], true);
  const second = await evaluate('ev', ['hybrid']);
  const res = await get('/collections/ev/evaluations/history', keys.admin);
  assert.equal(res.statusCode, 200, res.body);
  const h = json<History>(res);
  assert.equal(h.skipped, 0);
  assert.deepEqual(h.evaluations.map((e) => e.job), [first.id, second.id]);
  assert.ok(h.evaluations[0].at <= h.evaluations[1].at);
  assert.deepEqual(h.evaluations[0].modes.map((m) => m.mode), ['bm25', 'vector']);
  const e0 = h.evaluations[0];
  assert.equal(e0.dataset, 'tiny', 'the dataset as the client named it, not the server path');
  assert.equal(e0.k, 10);
  assert.equal(e0.queries, 2);
  for (const [i, m] of e0.modes.entries()) {
    const reported = first.report.modes[i];
    for (const metric of ['ndcg@10', 'recall@100', 'mrr@10']) assert.equal(m.metrics[metric], reported[metric], `${m.mode} ${metric}`);
    assert.deepEqual(m.latencyMs, { p50: (reported.latencyMs as { p50: number }).p50, p99: (reported.latencyMs as { p99: number }).p99 });
  }

  // a crash mid-append leaves a torn line: it is skipped, and the next run starts a fresh line
  const file = historyFile(data, 'ev');
  await appendFile(file, '{"at":"2025-01-01T00:00:00.000Z","dataset":"tin');
  const torn = json<History>(await get('/collections/ev/evaluations/history'));
  assert.equal(torn.evaluations.length, 2);
  assert.equal(torn.skipped, 1);
  const third = await evaluate('ev', ['bm25']);
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 4);
  assert.equal(JSON.parse(lines[3]).job, third.id);

  // a new server over the same folder reads the same history
  const other = await hashServer(data, embedder);
  try {
    await other.ready();
    const again = json<History>(await other.inject({ method: 'GET', url: '/collections/ev/evaluations/history', headers: bearer(keys.admin) }));
    assert.deepEqual(again.evaluations.map((e) => e.job), [first.id, second.id, third.id]);
  } finally {
    await other.close();
  }

  const none = json<History>(await get(`/collections/${C}/evaluations/history`, keys.read));
  assert.deepEqual(none.evaluations, []);
  assert.equal((await get('/collections/nothing-here/evaluations/history')).statusCode, 404);

  // deleting the collection forgets its history
  assert.equal((await app.inject({ method: 'DELETE', url: '/collections/ev', headers: bearer(keys.admin) })).statusCode, 200);
  assert.deepEqual(await readEvalHistory(data, 'ev'), { entries: [], skipped: 0 });
});

test('collection info carries the memory its warm indexes take, the figure /metrics reports', async () => {
  const info = json<{ chunks: number; memory: { bytes: number | null }; model: { dims: number } }>(await get(`/collections/${C}`, keys.read));
  assert.ok(typeof info.memory.bytes === 'number' && info.memory.bytes > 0, JSON.stringify(info.memory));
  // a flat index holds every vector: chunks × dims × 4 bytes
  assert.equal(info.memory.bytes, info.chunks * info.model.dims * 4);
  const metrics = (await get('/metrics')).body;
  const m = new RegExp(`quarry_index_memory_bytes\\{collection="${C}"\\} (\\d+)`).exec(metrics);
  assert.ok(m, 'no memory gauge');
  assert.equal(Number(m[1]), info.memory.bytes);
});

test('the new routes are in the OpenAPI document with their schemas; the page routes are not', async () => {
  const doc = json<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> }>(await get('/openapi.json'));
  for (const p of ['/session', '/collections/{name}/stats', '/collections/{name}/evaluations/history']) assert.ok(doc.paths[p]?.get, `${p} missing`);
  assert.ok(doc.paths['/collections/{name}/search'].post.requestBody!.content['application/json'].schema.properties.highlight);
  assert.equal(doc.paths['/'], undefined);
  assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/ui')));
});

test('the page: / and its assets without a key, with a CSP, content types and cache headers', async () => {
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200, 'run `npm run build` first: it bundles the page into dist/web');
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const assets = [...page.body.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.equal(assets.length, 2, page.body);
  for (const url of assets) {
    const a = await app.inject({ method: 'GET', url });
    assert.equal(a.statusCode, 200, url);
    assert.match(String(a.headers['content-type']), url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    assert.match(String(a.headers['cache-control']), /immutable/);
    assert.ok(a.rawPayload.length > 1000);
  }
  for (const url of ['/ui/assets/nope.js', '/ui/assets/..%2F..%2Fpackage.json', '/ui/assets/.hidden.js', '/ui/assets/app.exe']) {
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
  }
});

test('the page not built: / answers 503 saying to run npm run build', async () => {
  const bare = Fastify();
  registerUiRoutes(bare, {} as ServerContext, join(dir.path, 'no-such-build'));
  try {
    const res = await bare.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(json<ErrorReply>(res).error.message, /npm run build/);
  } finally {
    await bare.close();
  }
});
