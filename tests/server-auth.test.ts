import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { keysFileOf, KeyStore, listKeys, revokeKey } from '../src/server/keys.js';
import { tempDir } from './support/env.js';
import { bearer, docs, hashEmbedder, hashServer, json, key, seedCollection } from './support/server.js';

const C = 'docs';
const OTHER = 'other';

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  scope: 'read' | 'write' | 'admin';
  /** The route names a collection (path or body) that keys are checked against. */
  scoped: boolean;
  /** Skip the call with a good key (it would destroy the fixture). */
  destructive?: boolean;
}

/** Every route but /healthz and /readyz, which need no key (checked against the OpenAPI document below). */
const ROUTES: Route[] = [
  { method: 'GET', url: '/metrics', scope: 'admin', scoped: false },
  { method: 'GET', url: '/openapi.json', scope: 'read', scoped: false },
  { method: 'GET', url: '/collections', scope: 'read', scoped: false },
  { method: 'POST', url: '/collections', body: { name: C, model: 'test/hash-embedder' }, scope: 'admin', scoped: true },
  { method: 'GET', url: `/collections/${C}`, scope: 'read', scoped: true },
  { method: 'DELETE', url: `/collections/${C}`, scope: 'admin', scoped: true, destructive: true },
  { method: 'POST', url: `/collections/${C}/documents`, body: { documents: [{ id: 'n1', text: 'a new note about the river' }] }, scope: 'write', scoped: true },
  { method: 'DELETE', url: `/collections/${C}/documents`, body: { ids: ['no-such-doc'] }, scope: 'write', scoped: true },
  { method: 'POST', url: `/collections/${C}/search`, body: { query: 'river', k: 3 }, scope: 'read', scoped: true },
  { method: 'GET', url: `/collections/${C}/versions`, scope: 'read', scoped: true },
  { method: 'POST', url: `/collections/${C}/rollback`, body: { version: 1 }, scope: 'write', scoped: true },
  { method: 'POST', url: `/collections/${C}/evaluations`, body: { dataset: 'nothing' }, scope: 'admin', scoped: true },
  { method: 'GET', url: `/collections/${C}/evaluations`, scope: 'read', scoped: true },
  { method: 'GET', url: `/collections/${C}/evaluations/0123456789abcdef`, scope: 'read', scoped: true },
  { method: 'GET', url: '/audit', scope: 'admin', scoped: false },
  { method: 'GET', url: `/collections/${C}/card`, scope: 'read', scoped: true },
  { method: 'GET', url: `/collections/${C}/evaluations/history`, scope: 'read', scoped: true },
  { method: 'GET', url: `/collections/${C}/stats`, scope: 'read', scoped: true },
  { method: 'GET', url: '/session', scope: 'read', scoped: false },
  { method: 'GET', url: `/collections/${C}/generations`, scope: 'read', scoped: true },
  { method: 'POST', url: `/collections/${C}/generations`, body: {}, scope: 'admin', scoped: true, destructive: true },
  { method: 'PUT', url: `/collections/${C}/judgments`, body: { queries: [{ query: 'river', expected: ['d1'] }] }, scope: 'admin', scoped: true },
  { method: 'POST', url: `/collections/${C}/promote`, body: {}, scope: 'admin', scoped: true },
  { method: 'POST', url: `/collections/${C}/generations/rollback`, scope: 'admin', scoped: true },
];

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
const keys: Record<string, string> = {};

before(async () => {
  dir = await tempDir('quarry-server-auth-');
  const embedder = await hashEmbedder();
  await seedCollection(dir.path, C, embedder, docs('a', 3, 'heron'));
  await seedCollection(dir.path, OTHER, embedder, docs('b', 2, 'otter'));
  keys.read = await key(dir.path, 'read', [C]);
  keys.write = await key(dir.path, 'write', [C]);
  keys.admin = await key(dir.path, 'admin', [C]);
  keys.otherAdmin = await key(dir.path, 'admin', [OTHER]);
  keys.all = await key(dir.path, 'admin', ['*']);
  app = await hashServer(dir.path, embedder);
  await app.ready();
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

const call = (r: Route, headers: Record<string, string> = {}) =>
  app.inject({ method: r.method, url: r.url, headers, ...(r.body !== undefined ? { payload: r.body as Record<string, unknown> } : {}) });

test('the route table covers every route of the OpenAPI document', async () => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json', headers: bearer(keys.read) });
  assert.equal(res.statusCode, 200);
  const doc = json<{ paths: Record<string, Record<string, unknown>> }>(res);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const covered = new Set(ROUTES.map((r) => `${r.method} ${r.url.replace(`/${C}`, '/{name}').replace('0123456789abcdef', '{id}')}`));
  for (const d of documented) {
    if (d === 'GET /healthz' || d === 'GET /readyz') continue;
    assert.ok(covered.has(d), `route ${d} is not in the access-control table`);
  }
});

test('/healthz needs no key', async () => {
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(json(res), { status: 'ok' });
});

test('every route without a key: 401 with a Bearer challenge', async () => {
  for (const r of ROUTES) {
    const res = await call(r);
    assert.equal(res.statusCode, 401, `${r.method} ${r.url}`);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'MISSING_KEY');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  }
});

test('every route with a wrong or malformed key: 401', async () => {
  const wrong = `qk_${'0'.repeat(12)}_${'1'.repeat(64)}`;
  // a real key's id with another secret must fail too
  const forged = keys.all.slice(0, 16) + 'f'.repeat(64);
  for (const r of ROUTES) {
    for (const [headers, code] of [
      [bearer(wrong), 'UNKNOWN_KEY'],
      [bearer(forged), 'UNKNOWN_KEY'],
      [bearer('not-a-key'), 'UNKNOWN_KEY'],
      [{ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'MALFORMED_AUTHORIZATION'],
    ] as const) {
      const res = await call(r, headers);
      assert.equal(res.statusCode, 401, `${r.method} ${r.url} ${JSON.stringify(headers)}`);
      assert.equal(json<{ error: { code: string } }>(res).error.code, code);
    }
  }
});

test('a key for another collection: 403 on every route about this collection', async () => {
  for (const r of ROUTES.filter((x) => x.scoped)) {
    const res = await call(r, bearer(keys.otherAdmin));
    assert.equal(res.statusCode, 403, `${r.method} ${r.url}`);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'COLLECTION_NOT_ALLOWED');
  }
});

test('a key whose scope is too low: 403', async () => {
  const lower = { write: keys.read, admin: keys.write } as const;
  let checked = 0;
  for (const r of ROUTES.filter((x) => x.scope !== 'read')) {
    const res = await call(r, bearer(lower[r.scope as 'write' | 'admin']));
    assert.equal(res.statusCode, 403, `${r.method} ${r.url}`);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'SCOPE_NOT_ALLOWED');
    checked++;
  }
  assert.equal(checked, 12);
});

test('a key of the right scope and collection gets past access control', async () => {
  for (const r of ROUTES.filter((x) => !x.destructive)) {
    const k = r.scope === 'read' ? keys.read : r.scope === 'write' ? keys.write : keys.admin;
    const res = await call(r, bearer(k));
    assert.ok(![401, 403].includes(res.statusCode), `${r.method} ${r.url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
});

test('listing collections shows only those the key may use', async () => {
  const names = async (k: string) => json<{ collections: Array<{ name: string }> }>(await app.inject({ method: 'GET', url: '/collections', headers: bearer(k) })).collections.map((c) => c.name);
  assert.deepEqual(await names(keys.read), [C]);
  assert.deepEqual(await names(keys.otherAdmin), [OTHER]);
  assert.deepEqual(await names(keys.all), [C, OTHER]);
});

test('creating a collection named in the body needs admin on that name', async () => {
  const res = await app.inject({ method: 'POST', url: '/collections', headers: bearer(keys.admin), payload: { name: 'fresh', model: 'test/hash-embedder' } });
  assert.equal(res.statusCode, 403);
  assert.equal(json<{ error: { code: string } }>(res).error.code, 'COLLECTION_NOT_ALLOWED');
});

test('a revoked key stops working on the next request; a damaged keys file refuses every key', async () => {
  const k = await key(dir.path, 'read', [C]);
  const ok = await app.inject({ method: 'GET', url: `/collections/${C}/versions`, headers: bearer(k) });
  assert.equal(ok.statusCode, 200);
  const id = k.split('_')[1];
  assert.equal(await revokeKey(keysFileOf(dir.path), id), true);
  const gone = await app.inject({ method: 'GET', url: `/collections/${C}/versions`, headers: bearer(k) });
  assert.equal(gone.statusCode, 401);

  const store = new KeyStore(join(dir.path, 'damaged-keys.json'));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(store.path, '{ not json');
  assert.equal(store.verify(keys.all), null);
  assert.match(String(store.problem), /not valid JSON/);
});

test('keys.json holds only salted hashes, readable by its owner only', async () => {
  const file = keysFileOf(dir.path);
  const text = await readFile(file, 'utf8');
  for (const k of Object.values(keys)) {
    assert.ok(!text.includes(k), 'a key is stored in plain text');
    assert.ok(!text.includes(k.split('_')[2]), "a key's secret is stored in plain text");
  }
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const list = await listKeys(file);
  assert.ok(list.length >= 5);
  for (const info of list) assert.deepEqual(Object.keys(info).sort(), ['collections', 'createdAt', 'id', 'scope'].sort());
});

test('deleting a collection needs admin on it, then it is gone', async () => {
  const denied = await app.inject({ method: 'DELETE', url: `/collections/${OTHER}`, headers: bearer(keys.admin) });
  assert.equal(denied.statusCode, 403);
  const res = await app.inject({ method: 'DELETE', url: `/collections/${OTHER}`, headers: bearer(keys.otherAdmin) });
  assert.equal(res.statusCode, 200, res.body);
  const again = await app.inject({ method: 'GET', url: `/collections/${OTHER}`, headers: bearer(keys.otherAdmin) });
  assert.equal(again.statusCode, 404);
  assert.equal(json<{ error: { code: string } }>(again).error.code, 'COLLECTION_NOT_FOUND');
});
