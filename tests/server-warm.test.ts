import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Embedder } from '../src/embed/embedder.js';
import { l2NormalizeInPlace } from '../src/embed/pooling.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, hashEmbedder, hashServer, json, key, seedCollection, waitFor } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;

type Status = { ready: boolean; collections: Array<{ name: string; state: string; version?: number; model?: string; error?: { code: string; message: string } }> };

/** The hash embedder with another identity (other weights): the seeds' "someone swapped the model". */
function otherWeights(e: HashEmbedder): Embedder {
  return Object.assign(Object.create(Object.getPrototypeOf(e) as object) as HashEmbedder, e, { identity: { ...e.identity, weightsSha256: 'f'.repeat(64) } });
}

/** Same identity, different output: a runtime or tokenizer change that moved the vectors. */
class DriftedEmbedder extends HashEmbedder {
  override async embed(texts: string[]): Promise<Float32Array[]> {
    const out = await super.embed(texts.map((t) => `drift:${t}`));
    return out.map((v) => l2NormalizeInPlace(v));
  }
}

before(async () => {
  dir = await tempDir('quarry-server-warm-');
  embedder = await hashEmbedder();
});

after(async () => {
  await dir.cleanup();
});

test('/readyz answers 503 while a collection warms up, 200 once its warm-up query has run', async () => {
  const data = `${dir.path}/flip`;
  await seedCollection(data, 'a', embedder, docs('a', 4, 'heron'));
  const k = await key(data, 'read', ['a']);
  // the state of each collection in /readyz is for admin and metrics keys
  const probe = await key(data, 'metrics', ['a']);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const warming: string[] = [];
  const app = await hashServer(data, embedder, {
    beforeWarmup: async (name) => {
      warming.push(name);
      await gate;
    },
  });
  try {
    await app.ready();
    await waitFor('the warm-up to start', async () => warming.length > 0);
    const before = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(probe) });
    assert.equal(before.statusCode, 503);
    assert.deepEqual(json<Status>(before), { ready: false, collections: [{ name: 'a', state: 'loading' }] });
    // a search meanwhile waits for the warm-up instead of failing
    const pending = app.inject({ method: 'POST', url: '/collections/a/search', headers: bearer(k), payload: { query: 'heron' } });
    let answered = false;
    void pending.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(answered, false);
    const still = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(probe) });
    assert.equal(still.statusCode, 503);

    release();
    const ready = await waitFor('readiness', async () => {
      const r = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(probe) });
      return r.statusCode === 200 ? json<Status>(r) : undefined;
    });
    assert.deepEqual(ready, { ready: true, collections: [{ name: 'a', state: 'ready', version: 1, model: ready.collections[0].model }] });
    assert.match(String(ready.collections[0].model), /^test\/hash-embedder/);
    assert.equal((await pending).statusCode, 200);

    // a collection another process creates later is found, warmed, and readiness waits for it
    await seedCollection(data, 'b', embedder, docs('b', 2, 'otter'));
    const kAll = await key(data, 'metrics', ['*']);
    const seen = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(kAll) });
    const status = json<Status>(seen);
    assert.deepEqual(status.collections.map((c) => c.name), ['a', 'b']);
    const settled = await waitFor('b to warm', async () => {
      const r = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(kAll) });
      return r.statusCode === 200 ? json<Status>(r) : undefined;
    });
    assert.deepEqual(settled.collections.map((c) => c.state), ['ready', 'ready']);
  } finally {
    await app.close();
  }
});

test('a collection whose model does not match (or drifted) is reported and refused, while the others serve', async () => {
  const data = `${dir.path}/mixed`;
  await seedCollection(data, 'good', embedder, docs('g', 3, 'heron'));
  await seedCollection(data, 'swapped', otherWeights(embedder), docs('s', 3, 'heron'));
  const drifted = new DriftedEmbedder(embedder.tokenizer);
  await seedCollection(data, 'drifted', drifted, docs('d', 3, 'heron'));
  const k = await key(data, 'read', ['*']);
  const probe = await key(data, 'metrics', ['*']);
  const app = await hashServer(data, embedder);
  try {
    await app.ready();
    const status = await waitFor('readiness', async () => {
      const r = await app.inject({ method: 'GET', url: '/readyz', headers: bearer(probe) });
      return r.statusCode === 200 ? json<Status>(r) : undefined;
    });
    const by = Object.fromEntries(status.collections.map((c) => [c.name, c]));
    assert.equal(by.good.state, 'ready');
    assert.equal(by.swapped.state, 'refused');
    assert.equal(by.swapped.error?.code, 'MODEL_MISMATCH');
    assert.match(by.swapped.error!.message, /was built with test\/hash-embedder .*ffffffffffff/);
    assert.equal(by.drifted.state, 'refused');
    assert.equal(by.drifted.error?.code, 'MODEL_DRIFT');

    for (const name of ['swapped', 'drifted']) {
      const res = await app.inject({ method: 'POST', url: `/collections/${name}/search`, headers: bearer(k), payload: { query: 'heron', mode: 'bm25' } });
      assert.equal(res.statusCode, 503, name);
      const e = json<{ error: { code: string; message: string } }>(res).error;
      assert.equal(e.code, 'COLLECTION_UNAVAILABLE');
      assert.match(e.message, new RegExp(`collection "${name}" is not serving: .*(was built with|no longer reproduces)`));
    }
    const ok = await app.inject({ method: 'POST', url: '/collections/good/search', headers: bearer(k), payload: { query: 'heron', k: 2 } });
    assert.equal(ok.statusCode, 200);
    assert.equal(json<{ results: unknown[] }>(ok).results.length, 2);
    // writes are refused too: nothing may be embedded with the wrong model
    const wk = await key(data, 'write', ['swapped']);
    const write = await app.inject({ method: 'POST', url: '/collections/swapped/documents', headers: bearer(wk), payload: { documents: [{ id: 'x', text: 'y' }] } });
    assert.equal(write.statusCode, 503);
  } finally {
    await app.close();
  }
});
