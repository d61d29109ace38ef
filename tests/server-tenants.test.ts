/**
 * Tenant isolation (issue 14, item 4): a key sees only the collections it is scoped to, on
 * every route. The routes are enumerated from the app itself (routesOf), so a route added
 * later without an example here fails the first test instead of escaping the others.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { routesOf, type RouteEntry } from '../src/server/app.js';
import { PathRedactor } from '../src/server/redact.js';
import { tempDir } from './support/env.js';
import { bearer, docs, hashEmbedder, hashServer, HASH_MODEL, json, key, seedCollection, waitFor } from './support/server.js';

/** The tenant whose existence other keys must never learn: a name no other text contains. */
const SECRET = 'tenant-alpha-7f3c9e';
const OTHER = 'tenant-beta';

/** A request for each route pattern; `:name` is SECRET, `:id` an evaluation id, `:file` an asset. */
const EXAMPLES: Record<string, { body?: unknown; destructive?: boolean }> = {
  'GET /healthz': {},
  'GET /readyz': {},
  'GET /metrics': {},
  'GET /openapi.json': {},
  'GET /session': {},
  'GET /audit': {},
  'GET /': {},
  'GET /ui/assets/:file': {},
  'GET /collections': {},
  'POST /collections': { body: { name: SECRET, model: HASH_MODEL } },
  'GET /collections/:name': {},
  'DELETE /collections/:name': { destructive: true },
  'POST /collections/:name/documents': { body: { documents: [{ id: 'n1', text: 'a new note about the heron' }] } },
  'DELETE /collections/:name/documents': { body: { ids: ['no-such-doc'] } },
  'POST /collections/:name/search': { body: { query: 'heron', k: 3 } },
  'GET /collections/:name/stats': {},
  'GET /collections/:name/versions': {},
  'POST /collections/:name/rollback': { body: { version: 1 } },
  'GET /collections/:name/card': {},
  'POST /collections/:name/evaluations': { body: { dataset: 'nothing' } },
  'GET /collections/:name/evaluations': {},
  'GET /collections/:name/evaluations/history': {},
  'GET /collections/:name/evaluations/:id': {},
  'GET /collections/:name/generations': {},
  'POST /collections/:name/generations': { body: {}, destructive: true },
  'PUT /collections/:name/judgments': { body: { queries: [{ query: 'heron', expected: ['a-0'] }] } },
  'POST /collections/:name/promote': { body: {} },
  'POST /collections/:name/generations/rollback': {},
};

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
let routes: RouteEntry[];
const keys: Record<string, string> = {};

before(async () => {
  dir = await tempDir('quarry-server-tenants-');
  const embedder = await hashEmbedder();
  await seedCollection(dir.path, OTHER, embedder, docs('b', 2, 'otter'));
  keys.all = await key(dir.path, 'admin', ['*']);
  keys.otherRead = await key(dir.path, 'read', [OTHER]);
  keys.otherWrite = await key(dir.path, 'write', [OTHER]);
  keys.otherAdmin = await key(dir.path, 'admin', [OTHER]);
  keys.otherMetrics = await key(dir.path, 'metrics', [OTHER]);
  keys.allMetrics = await key(dir.path, 'metrics', ['*']);
  app = await hashServer(dir.path, embedder);
  await app.ready();
  routes = routesOf(app);
  // the secret tenant is made through the API (so the audit log names it) and searched (so /metrics has its series)
  const made = await app.inject({ method: 'POST', url: '/collections', headers: bearer(keys.all), payload: { name: SECRET, model: HASH_MODEL } });
  assert.equal(made.statusCode, 201, made.body);
  const up = await app.inject({ method: 'POST', url: `/collections/${SECRET}/documents`, headers: bearer(keys.all), payload: { documents: docs('a', 3, 'heron') } });
  assert.equal(up.statusCode, 200, up.body);
  const s = await app.inject({ method: 'POST', url: `/collections/${SECRET}/search`, headers: bearer(keys.all), payload: { query: 'heron' } });
  assert.equal(s.statusCode, 200, s.body);
  await waitFor('ready', async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
});

after(async () => {
  await app.close();
  await dir.cleanup();
});

const urlOf = (r: RouteEntry, name = SECRET) => r.url.replace(':name', name).replace(':id', '0123456789abcdef').replace(':file', 'app.js');

function call(r: RouteEntry, k?: string, name = SECRET): Promise<LightMyRequestResponse> {
  let body = EXAMPLES[`${r.method} ${r.url}`]?.body;
  if (body !== undefined && name !== SECRET) body = JSON.parse(JSON.stringify(body).split(SECRET).join(name)) as unknown;
  return app.inject({ method: r.method as 'GET', url: urlOf(r, name), headers: k ? bearer(k) : {}, ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}) });
}

/** Everything a client receives: status line aside, the headers and the body. */
const seen = (res: LightMyRequestResponse) => `${JSON.stringify(res.headers)}\n${res.body}`;

test('every route of the app has an example here (a new route cannot escape these tests)', () => {
  assert.ok(routes.length >= 25, `only ${routes.length} routes enumerated`);
  for (const r of routes) assert.ok(`${r.method} ${r.url}` in EXAMPLES, `route ${r.method} ${r.url} has no example in tests/server-tenants.test.ts`);
});

/** A collection name no one made: a key must not be able to tell it from SECRET. */
const GHOST = 'tenant-gamma-0d41aa';

test('a key of another collection learns nothing about this one, on any route and in any scope', async () => {
  let refused = 0;
  for (const r of routes) {
    const namesOne = r.url.includes(':name') || (r.method === 'POST' && r.url === '/collections');
    for (const name of ['otherRead', 'otherWrite', 'otherAdmin', 'otherMetrics']) {
      const res = await call(r, keys[name]);
      const what = `${r.method} ${urlOf(r)} with ${name}: ${res.statusCode} ${res.body.slice(0, 300)}`;
      assert.ok(res.statusCode < 500, what);
      if (!namesOne) {
        // nothing names the collection: the answer must not either
        assert.ok(!seen(res).toLowerCase().includes(SECRET), `${what} names the other tenant's collection`);
        continue;
      }
      // a route about a collection (path or body) refuses the key before it looks at the
      // collection: the answer for SECRET is the answer for a name that does not exist
      assert.equal(res.statusCode, 403, what);
      const ghost = await call(r, keys[name], GHOST);
      assert.equal(ghost.statusCode, res.statusCode, what);
      assert.equal(ghost.body.split(GHOST).join(SECRET), res.body, what);
      refused++;
    }
  }
  assert.ok(refused >= 4 * 19, `only ${refused} refusals`);
});

test('/readyz: the bare status without a key; the state of collections only for admin or metrics keys, and only theirs', async () => {
  const bare = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(bare.statusCode, 200);
  assert.deepEqual(json(bare), { ready: true });
  assert.deepEqual(json(await app.inject({ method: 'GET', url: '/readyz', headers: bearer(keys.otherRead) })), { ready: true });
  const mine = json<{ collections: Array<{ name: string }> }>(await app.inject({ method: 'GET', url: '/readyz', headers: bearer(keys.otherMetrics) }));
  assert.deepEqual(mine.collections.map((c) => c.name), [OTHER]);
  const all = json<{ collections: Array<{ name: string }> }>(await app.inject({ method: 'GET', url: '/readyz', headers: bearer(keys.all) }));
  assert.deepEqual(all.collections.map((c) => c.name), [OTHER, SECRET].sort());
  // a key that is sent must be valid, even where none is needed
  assert.equal((await app.inject({ method: 'GET', url: '/readyz', headers: bearer(`qk_${'0'.repeat(12)}_${'1'.repeat(64)}`) })).statusCode, 401);
});

test('/metrics: refused to read and write keys; admin and metrics keys see the series of their collections only', async () => {
  for (const k of [keys.otherRead, keys.otherWrite]) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(k) });
    assert.equal(res.statusCode, 403);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'SCOPE_NOT_ALLOWED');
  }
  const everything = (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(keys.allMetrics) })).body;
  assert.match(everything, new RegExp(`quarry_search_duration_seconds_count\\{collection="${SECRET}"`));
  assert.match(everything, new RegExp(`quarry_documents\\{collection="${OTHER}"\\}`));
  for (const k of [keys.otherMetrics, keys.otherAdmin]) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(k) });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes(SECRET));
    assert.match(res.body, new RegExp(`quarry_documents\\{collection="${OTHER}"\\} 2`));
    assert.match(res.body, /quarry_http_requests_total\{/); // server-wide series stay
  }
});

test('a metrics key reads nothing else', async () => {
  for (const url of ['/collections', `/collections/${OTHER}`, '/session', '/openapi.json']) {
    const res = await app.inject({ method: 'GET', url, headers: bearer(keys.otherMetrics) });
    assert.equal(res.statusCode, 403, url);
  }
  const s = await app.inject({ method: 'POST', url: `/collections/${OTHER}/search`, headers: bearer(keys.otherMetrics), payload: { query: 'otter' } });
  assert.equal(s.statusCode, 403);
});

test('no answer names the server data folder or any other absolute path', async () => {
  // the 409 for a name that exists used to name the data directory
  const again = await app.inject({ method: 'POST', url: '/collections', headers: bearer(keys.all), payload: { name: SECRET, model: HASH_MODEL } });
  assert.equal(again.statusCode, 409);
  assert.ok(!again.body.includes(dir.path), again.body);
  assert.match(json<{ error: { message: string } }>(again).error.message, /<data>/);
  for (const r of routes.filter((x) => !EXAMPLES[`${x.method} ${x.url}`]?.destructive)) {
    for (const k of [keys.all, keys.otherAdmin, undefined]) {
      const res = await call(r, k);
      assert.ok(!seen(res).includes(dir.path), `${r.method} ${urlOf(r)}: ${res.body.slice(0, 300)}`);
      if (res.headers['content-type']?.toString().startsWith('application/json') && res.statusCode >= 400) {
        assert.doesNotMatch(json<{ error: { message: string } }>(res).error.message, /(^|[\s"'(=])\/(tmp|home|root|var|usr|etc|work)\//, `${r.method} ${urlOf(r)}`);
      }
    }
  }
});

test('the path redactor labels the server folders and hides any other absolute path', () => {
  const r = new PathRedactor({ data: '/srv/quarry/data', models: '/srv/quarry/data/models' });
  assert.equal(r.redact('cannot open /srv/quarry/data/docs/meta.sqlite: bad'), 'cannot open <data>/docs/meta.sqlite: bad');
  assert.equal(r.redact('model at /srv/quarry/data/models/x'), 'model at <models>/x');
  assert.equal(r.redact('see "/etc/passwd" and /var/lib/x.'), 'see "<path>" and <path>.');
  assert.equal(r.redact('model sentence-transformers/all-MiniLM-L6-v2 and nDCG / Recall'), 'model sentence-transformers/all-MiniLM-L6-v2 and nDCG / Recall');
});
