import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import {
  ApiError,
  CollectionNotFoundError,
  InvalidInputError,
  ModelMismatchError,
  QuarryClient,
  QuarryError,
  RequestTimeoutError,
  ServerUnreachableError,
  parseRetryAfter,
  remoteError,
  type SearchResponse,
  type SearchResult,
} from '../src/client/index.js';
import { CollectionLockedError, CollectionNotFoundError as LibNotFound, ModelMismatchError as LibMismatch } from '../src/errors.js';
import { LIBRARY_ERRORS } from '../src/client/remote-errors.js';
import { searchResponse } from '../src/server/schemas.js';
import { tempDir } from './support/env.js';
import { createKeyCli, startServe, type Served } from './support/serve.js';

let dir: { path: string; cleanup: () => Promise<void> };
let served: Served;
let admin: QuarryClient;
let reader: QuarryClient;
let adminKey: string;

before(async () => {
  dir = await tempDir('quarry-client-');
  const data = join(dir.path, 'data');
  adminKey = await createKeyCli(data, 'admin');
  const readKey = await createKeyCli(data, 'read');
  served = await startServe(['--data', data]);
  admin = new QuarryClient({ baseUrl: served.url, key: adminKey });
  reader = new QuarryClient({ baseUrl: served.url, key: readKey });
  await admin.createCollection({ name: 'notes' });
  await admin.upsertDocuments('notes', [
    { id: 'rust', text: 'The borrow checker in Rust enforces memory safety without a garbage collector.', metadata: { lang: 'en', year: 2021 } },
    { id: 'bread', text: 'Sourdough bread rises slowly because wild yeast ferments the dough overnight.', metadata: { lang: 'en', year: 2019 } },
    { id: 'tides', text: 'Ocean tides follow the gravitational pull of the moon and the sun.', metadata: { lang: 'fr', year: 2023 } },
  ]);
});

after(async () => {
  await served?.stop();
  await dir?.cleanup();
});

test('search over a real quarry serve: typed answer that the server schema validates', async () => {
  const res: SearchResponse = await reader.search('notes', 'how does yeast make dough rise', { mode: 'hybrid', k: 2 });
  assert.equal(res.collection, 'notes');
  assert.equal(res.mode, 'hybrid');
  assert.match(res.model, /all-MiniLM-L6-v2/);
  const top: SearchResult = res.results[0];
  assert.equal(top.docId, 'bread');
  assert.equal(typeof top.scores.vector, 'number');
  assert.ok(res.results.length <= 2);
  // the schema the client's types are derived from describes the server's real answer
  const validate = new Ajv({ strict: false }).compile(searchResponse);
  assert.ok(validate(res), JSON.stringify(validate.errors));

  const filtered = await reader.search('notes', 'tides and the moon', { mode: 'vector', filter: { lang: 'en' } });
  assert.ok(filtered.results.length > 0);
  assert.ok(filtered.results.every((r) => r.metadata.lang === 'en'), 'the filter reached the server');
});

test('documents: delete through the client removes them from search', async () => {
  await admin.upsertDocuments('notes', [{ id: 'temp', text: 'A temporary note about volcanic glass called obsidian.' }]);
  assert.equal((await reader.search('notes', 'obsidian', { mode: 'bm25' })).results[0]?.docId, 'temp');
  const del = await admin.deleteDocuments('notes', ['temp']);
  assert.deepEqual(del.deleted, ['temp']);
  assert.equal((await reader.search('notes', 'obsidian', { mode: 'bm25' })).results.length, 0);
  const cols = await reader.listCollections();
  assert.deepEqual(cols.map((c) => c.name), ['notes']);
  assert.equal((await reader.session()).scope, 'read');
});

test("error answers come back as quarry's own error classes", async () => {
  await assert.rejects(reader.search('nope', 'x'), (e: unknown) => {
    assert.ok(e instanceof CollectionNotFoundError && e instanceof LibNotFound && e instanceof QuarryError);
    assert.equal(e.code, 'COLLECTION_NOT_FOUND');
    assert.equal(e.category, 'not-found');
    assert.equal(e.name, 'CollectionNotFoundError');
    assert.equal(e.details.status, 404);
    assert.match(e.message, /collection "nope" does not exist/);
    return true;
  });
  await assert.rejects(reader.search('notes', 'x', { k: 0 }), (e: unknown) => {
    assert.ok(e instanceof InvalidInputError);
    assert.equal(e.details.field, 'k');
    return true;
  });
  await assert.rejects(reader.upsertDocuments('notes', [{ id: 'x', text: 'y' }]), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 403);
    assert.equal(e.code, 'SCOPE_NOT_ALLOWED');
    assert.equal(e.category, 'invalid-input');
    return true;
  });
  const stranger = new QuarryClient({ baseUrl: served.url, key: 'qk_000000000000_' + '0'.repeat(64) });
  await assert.rejects(stranger.listCollections(), (e: unknown) => e instanceof ApiError && e.status === 401);
});

test('the library error table matches the real classes (code, category, class)', () => {
  const samples: QuarryError[] = [new LibNotFound('c', '/d'), new LibMismatch('c', 'a', 'b', ['x']), new CollectionLockedError('c', '/l', 'pid 1'), new InvalidInputError('m')];
  for (const real of samples) {
    const entry = LIBRARY_ERRORS[real.code];
    assert.ok(entry, real.code);
    assert.equal(entry.category, real.category, real.code);
    const back = remoteError({ error: { code: real.code, message: real.message } }, { status: 409, method: 'GET', url: 'u' });
    assert.ok(back instanceof (real.constructor as typeof QuarryError), real.code);
    assert.equal(back.name, real.name);
    assert.equal(back.message, real.message);
  }
  const mismatch = remoteError({ error: { code: 'MODEL_MISMATCH', message: 'm' } }, { status: 409, method: 'POST', url: 'u' });
  assert.ok(mismatch instanceof ModelMismatchError);
  const plain = remoteError(undefined, { status: 502, method: 'GET', url: 'http://x/y' });
  assert.ok(plain instanceof ApiError);
  assert.equal(plain.code, 'HTTP_502');
  assert.equal(plain.category, 'unavailable');
});

test('a deadline: a call that cannot finish in time is a RequestTimeoutError', async () => {
  // a listener that accepts and never answers
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as { port: number }).port;
    const c = new QuarryClient({ baseUrl: `http://127.0.0.1:${port}`, key: adminKey, timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(c.search('notes', 'x'), (e: unknown) => e instanceof RequestTimeoutError && e.details.timeoutMs === 300);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
  // a port nothing listens on any more
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const freePort = (gone.address() as { port: number }).port;
  await new Promise((r) => gone.close(r));
  const nobody = new QuarryClient({ baseUrl: `http://127.0.0.1:${freePort}`, timeoutMs: 2000 });
  await assert.rejects(nobody.health(), (e: unknown) => e instanceof ServerUnreachableError && /ECONNREFUSED/.test(e.message));
});

test('Retry-After: seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
  assert.throws(() => new QuarryClient({ baseUrl: 'not a url' }), InvalidInputError);
});

/**
 * A proxy in front of the real server that answers the first `shed` requests itself, the way
 * admission control does (429 or 503 with Retry-After), then forwards to quarry serve.
 */
async function sheddingProxy(shed: Array<{ status: number; retryAfter?: string }>): Promise<{ url: string; seen: () => number; close: () => Promise<void> }> {
  let seen = 0;
  const proxy: Server = createServer((req, res) => {
    const i = seen++;
    const answer = shed[i];
    if (answer) {
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.retryAfter !== undefined ? { 'retry-after': answer.retryAfter } : {}) });
      res.end(JSON.stringify({ error: { code: answer.status === 429 ? 'OVERLOADED' : 'UNAVAILABLE', message: 'busy' } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', async () => {
      const up = await fetch(`${served.url}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: chunks.length ? Buffer.concat(chunks) : undefined });
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    seen: () => seen,
    close: () => new Promise((r) => proxy.close(() => r())),
  };
}

test('429 and 503 with Retry-After are retried, waiting as told; the answer is the real server\'s', async () => {
  const p = await sheddingProxy([{ status: 429, retryAfter: '1' }, { status: 503, retryAfter: new Date(Date.now() + 1000).toUTCString() }, { status: 429 }]);
  try {
    const c = new QuarryClient({ baseUrl: p.url, key: adminKey, backoffMs: 50 });
    const t0 = Date.now();
    const res = await c.search('notes', 'borrow checker memory safety', { mode: 'hybrid' });
    const took = Date.now() - t0;
    assert.equal(p.seen(), 4, 'three refusals, then the real answer');
    assert.equal(res.results[0].docId, 'rust');
    assert.ok(took >= 1000, `waited for Retry-After: 1 (took ${took} ms)`);
  } finally {
    await p.close();
  }
});

test('503 without Retry-After, a Retry-After past the limit, and spent retries are thrown, not waited on', async () => {
  const p = await sheddingProxy([{ status: 503 }, { status: 429, retryAfter: '120' }, { status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }]);
  try {
    const c = new QuarryClient({ baseUrl: p.url, key: adminKey, retries: 1 });
    await assert.rejects(c.search('notes', 'x'), (e: unknown) => e instanceof ApiError && e.status === 503 && e.category === 'unavailable');
    assert.equal(p.seen(), 1, 'a 503 that names no Retry-After is not retried');
    const t0 = Date.now();
    await assert.rejects(c.search('notes', 'x'), (e: unknown) => e instanceof ApiError && e.status === 429 && e.details.retryAfterMs === 120_000);
    assert.ok(Date.now() - t0 < 5000, 'a two-minute Retry-After is not slept through');
    assert.equal(p.seen(), 2);
    await assert.rejects(c.search('notes', 'x'), (e: unknown) => e instanceof ApiError && e.status === 429);
    assert.equal(p.seen(), 4, 'one retry, then the error');
  } finally {
    await p.close();
  }
});
