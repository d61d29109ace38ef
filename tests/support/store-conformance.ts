/**
 * One conformance suite for every Store backend (as index-conformance.ts is for indexes, and
 * Hono's shared router tests for its routers), written against src/store/port.ts only:
 * writes and versions, pinned reads during a write, delete, rollback, filters (each operator,
 * selective and broad, against the tree's reference `matches`), vector and lexical search,
 * identifier lookup, the embedding cache, the tier-2 cache, single writer, drop.
 * A backend's test file calls runStoreConformance with a factory for fresh stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QuarryError } from '../../src/errors.js';
import { analyze } from '../../src/lexical/analyzer.js';
import { matches, parseFilter, type Filter } from '../../src/retrieve/filter/tree.js';
import type { DocumentRecord, NewChunk, Store, WriteBatch } from '../../src/store/port.js';
import { fakeManifest } from './fake-manifest.js';

export interface StoreConformanceOptions {
  /** A fresh, empty store, and how to dispose of it. */
  makeStore: () => Promise<{ store: Store; cleanup: () => Promise<void> }>;
  /** The backend refuses a second writer on one collection while the first is open. */
  singleWriter: boolean;
}

const DIMS = 4;

/** Unit vectors pointing at one axis with a little of the next, so the nearest is unambiguous. */
function axis(i: number, tilt = 0.1): Float32Array {
  const v = new Float32Array(DIMS);
  v[i % DIMS] = 1;
  v[(i + 1) % DIMS] = tilt;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

interface DocSpec {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  vector: Float32Array;
}

/** Documents with metadata of every type the filter language reads. */
export const CORPUS: DocSpec[] = [
  { id: 'doc-a', text: 'alpine glaciers retreat under warming summers', metadata: { lang: 'en', year: 2019, tag: 'x', published: '2019-05-01', author: { name: 'Ada' }, draft: false }, vector: axis(0) },
  { id: 'doc-b', text: 'der Gletscher schmilzt im Sommer schneller', metadata: { lang: 'de', year: 2021, tag: 'y', published: '2021-01-15T10:00:00Z', author: { name: 'Bo' }, draft: true }, vector: axis(1) },
  { id: 'doc-c', text: 'order ORD-2024-00042 shipped with a glacier map', metadata: { lang: 'en', year: 2023, tag: 'z', published: '2023-12-31', author: { name: 'Cy' } }, vector: axis(2) },
  { id: 'doc-d', text: 'sea ice extent and ocean temperature records', metadata: { lang: 'en', year: '2024', note: null }, vector: axis(3) },
  { id: 'doc-e', text: 'a note without any metadata about penguins', metadata: {}, vector: axis(0, 0.5) },
];

export const FILTER_CASES: Filter[] = [
  { lang: 'en' },
  { lang: 'en', tag: 'z' },
  { tag: { $in: ['x', 'y'] } },
  { lang: { $nin: ['en'] } },
  { lang: { $ne: 'de' } },
  { draft: true },
  { draft: 1 },
  { 'author.name': 'Cy' },
  { note: null },
  { note: { $ne: null } },
  { year: { $gte: 2020 } },
  { year: { $gt: 2019, $lt: 2023 } },
  { year: '2024' },
  { published: { $gte: '2021-01-01' } },
  { published: { $lt: '2021-01-15T12:00:00Z' } },
  { $or: [{ lang: 'de' }, { tag: 'z' }] },
  { $and: [{ lang: 'en' }, { year: { $gte: 2020 } }] },
  { lang: 'fr' },
];

function documentOf(d: DocSpec, version = 1): DocumentRecord {
  return {
    docId: d.id,
    version,
    source: `test://${d.id}`,
    locator: null,
    format: 'txt',
    title: null,
    metadata: d.metadata,
    contentHash: `hash-${d.id}-${d.text.length}-${version}`,
    byteLength: d.text.length,
    chunkCount: 1,
    embeddedWith: 'test/fake-model:fp32@aaaaaaaaaaaa',
    chunking: 'test',
    ingestedAt: '2026-01-01T00:00:00.000Z',
  };
}

function chunkOf(d: DocSpec, version = 1): NewChunk {
  return {
    docId: d.id,
    docVersion: version,
    seq: 0,
    text: d.text,
    start: 0,
    end: d.text.length,
    tokenCount: d.text.split(' ').length,
    textHash: `t-${d.id}-${version}`,
    embedHash: `e-${d.id}-${d.text}`,
    vector: d.vector,
  };
}

function batchOf(docs: DocSpec[], version = 1): WriteBatch {
  return { chunks: docs.map((d) => chunkOf(d, version)), publish: docs.map((d) => documentOf(d, version)) };
}

/** Writes docs as one version; returns its number. */
async function writeVersion(store: Store, name: string, docs: DocSpec[], remove: string[] = []): Promise<number> {
  const w = await store.openWriter(name);
  try {
    const txn = await w.begin();
    if (remove.length) await txn.remove(remove);
    if (docs.length) {
      const versions = await Promise.all(docs.map(async (d) => (await w.documentState(d.id)).nextVersion));
      const chunks = docs.map((d, i) => chunkOf(d, versions[i]));
      const publish = docs.map((d, i) => documentOf(d, versions[i]));
      await txn.write({ chunks, publish });
    }
    const v = await txn.commit('test', 'conformance write');
    assert.ok(v, 'a write that changed something makes a version');
    return v.id;
  } finally {
    await w.close();
  }
}

async function docIdsOf(store: Store, name: string, ids: number[]): Promise<string[]> {
  const r = await store.openReader(name);
  try {
    return [...new Set((await r.chunks(ids)).map((c) => c.docId))].sort();
  } finally {
    await r.close();
  }
}

export function runStoreConformance(backend: string, opts: StoreConformanceOptions): void {
  describe(`store conformance: ${backend}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let seq = 0;
    const fresh = async (docs: DocSpec[] = CORPUS): Promise<string> => {
      const name = `conf-${++seq}`;
      const w = await store.create(name, fakeManifest(name, DIMS));
      await w.close();
      if (docs.length) await writeVersion(store, name, docs);
      return name;
    };

    before(async () => {
      ({ store, cleanup } = await opts.makeStore());
    });
    after(async () => {
      await cleanup();
    });

    test('a committed batch is one version; readers see its documents, chunks and lineage', async () => {
      const name = await fresh();
      assert.ok((await store.list()).includes(name));
      assert.equal(await store.exists(name), true);
      const r = await store.openReader(name);
      try {
        assert.deepEqual(await r.counts(), { documents: CORPUS.length, chunks: CORPUS.length });
        const hits = await r.searchVectors(axis(2), 1);
        const [row] = await r.chunks(hits.map((h) => h.id));
        assert.equal(row.docId, 'doc-c');
        assert.equal(row.text, CORPUS[2].text);
        assert.deepEqual(row.metadata, CORPUS[2].metadata);
        assert.equal(row.source, 'test://doc-c');
        assert.match(row.contentHash, /^hash-doc-c/);
        assert.deepEqual((await store.manifest(name)).model, r.manifest.model);
      } finally {
        await r.close();
      }
    });

    test('vector search ranks by inner product, exactly on a small collection', async () => {
      const name = await fresh();
      const r = await store.openReader(name);
      try {
        for (const [i, d] of CORPUS.entries()) {
          const hits = await r.searchVectors(d.vector, CORPUS.length);
          assert.equal(hits.length, CORPUS.length);
          const rows = new Map((await r.chunks(hits.map((h) => h.id))).map((c) => [c.id, c.docId]));
          assert.equal(rows.get(hits[0].id), d.id, `nearest to ${d.id}'s own vector`);
          assert.ok(Math.abs(hits[0].score - 1) < 1e-5, `self cosine is 1, got ${hits[0].score}`);
          for (let j = 1; j < hits.length; j++) assert.ok(hits[j - 1].score >= hits[j].score, `sorted at ${i}`);
        }
      } finally {
        await r.close();
      }
    });

    test('similarities give the stored vectors\' inner products with a query, the same as vector search', async () => {
      const name = await fresh();
      const r = await store.openReader(name);
      try {
        const hits = await r.searchVectors(axis(1), CORPUS.length);
        const sims = await r.similarities(axis(1), [...hits.map((h) => h.id), 987_654]);
        assert.equal(sims.size, CORPUS.length, 'one per known chunk, the unknown id left out');
        for (const h of hits) assert.ok(Math.abs(sims.get(h.id)! - h.score) < 1e-5, `chunk ${h.id}: ${sims.get(h.id)} vs ${h.score}`);
        assert.equal((await r.similarities(axis(1), [])).size, 0);
      } finally {
        await r.close();
      }
    });

    test('lexical search finds the document holding a term; an identifier is looked up exactly', async () => {
      const name = await fresh();
      const r = await store.openReader(name);
      try {
        const hits = await r.searchLexical(analyze('penguins'), 3);
        assert.equal(hits.length, 1);
        assert.deepEqual((await r.chunks(hits.map((h) => h.id))).map((c) => c.docId), ['doc-e']);
        const glacier = await r.searchLexical(analyze('glacier'), 10);
        assert.deepEqual((await r.chunks(glacier.map((h) => h.id))).map((c) => c.docId).sort(), ['doc-a', 'doc-c']);
        const holders = await r.chunksHolding(analyze('ORD-2024-00042').find((t) => t.includes('00042')) ?? 'ord-2024-00042');
        assert.deepEqual((await r.chunks([...holders])).map((c) => c.docId), ['doc-c']);
        assert.equal((await r.chunksHolding('no-such-term-anywhere')).size, 0);
      } finally {
        await r.close();
      }
    });

    test('filters: every operator agrees with the reference semantics, in filterChunks and in both searches', async () => {
      const name = await fresh();
      const r = await store.openReader(name);
      try {
        for (const f of FILTER_CASES) {
          const tree = parseFilter(f);
          const want = CORPUS.filter((d) => matches(tree, d.metadata)).map((d) => d.id).sort();
          const prepared = r.prepareFilter(tree);
          const ids = await r.filterChunks(prepared);
          assert.deepEqual(await docIdsOf(store, name, ids), want, `filterChunks ${JSON.stringify(f)}`);
          const vec = await r.searchVectors(axis(0), 10, { filter: prepared });
          assert.deepEqual(await docIdsOf(store, name, vec.map((h) => h.id)), want, `searchVectors ${JSON.stringify(f)}`);
          const lex = await r.searchLexical(analyze('glacier glaciers gletscher penguins ocean'), 10, { filter: prepared });
          // every document's text holds one of these terms, so the filter alone decides
          assert.deepEqual(await docIdsOf(store, name, lex.map((h) => h.id)), want, `searchLexical ${JSON.stringify(f)}`);
        }
      } finally {
        await r.close();
      }
    });

    test('a reader pinned to a version keeps seeing it while a write commits; a new reader sees the new version', async () => {
      const name = await fresh(CORPUS.slice(0, 2));
      const before = await store.openReader(name);
      try {
        const w = await store.openWriter(name);
        try {
          const txn = await w.begin();
          await txn.write(batchOf([CORPUS[2]]));
          // written but not committed: invisible to the pinned reader
          assert.deepEqual(await before.counts(), { documents: 2, chunks: 2 });
          const v = await txn.commit('test', 'add c');
          assert.ok(v && v.id > before.version);
        } finally {
          await w.close();
        }
        assert.deepEqual(await before.counts(), { documents: 2, chunks: 2 });
        const hits = await before.searchVectors(axis(2), 3);
        assert.ok(!(await before.chunks(hits.map((h) => h.id))).some((c) => c.docId === 'doc-c'), 'the pinned reader never sees doc-c');
        const now = await store.openReader(name);
        try {
          assert.deepEqual(await now.counts(), { documents: 3, chunks: 3 });
          assert.equal((await now.chunks((await now.searchVectors(axis(2), 1)).map((h) => h.id)))[0].docId, 'doc-c');
        } finally {
          await now.close();
        }
      } finally {
        await before.close();
      }
    });

    test('delete is a new version; rollback makes an earlier live set current as another version; old versions stay readable', async () => {
      const name = await fresh();
      const r0 = await store.openReader(name);
      const v1 = r0.version;
      await r0.close();
      const v2 = await writeVersion(store, name, [], ['doc-a', 'doc-missing']);
      assert.ok(v2 > v1);
      const r2 = await store.openReader(name);
      try {
        assert.equal((await r2.counts()).documents, CORPUS.length - 1);
        const hits = await r2.searchVectors(axis(0, 0.1), 10);
        assert.ok(!(await r2.chunks(hits.map((h) => h.id))).some((c) => c.docId === 'doc-a'));
        assert.equal((await r2.searchLexical(analyze('alpine'), 5)).length, 0);
      } finally {
        await r2.close();
      }
      const old = await store.openReader(name, { version: v1 });
      try {
        assert.equal(old.version, v1);
        assert.equal((await old.counts()).documents, CORPUS.length);
      } finally {
        await old.close();
      }
      const w = await store.openWriter(name);
      try {
        const back = await w.rollback(v1);
        assert.ok(back.id > v2, 'rollback is recorded as a new version');
        assert.deepEqual(
          (await w.versions()).map((v) => v.id),
          [v1, v2, back.id],
        );
      } finally {
        await w.close();
      }
      const r3 = await store.openReader(name);
      try {
        assert.equal((await r3.counts()).documents, CORPUS.length);
        assert.equal((await r3.chunks((await r3.searchLexical(analyze('alpine'), 5)).map((h) => h.id)))[0].docId, 'doc-a');
      } finally {
        await r3.close();
      }
    });

    test('a write that changes nothing makes no version', async () => {
      const name = await fresh();
      const w = await store.openWriter(name);
      try {
        const head = await w.head();
        const txn = await w.begin();
        assert.deepEqual(await txn.remove(['not-there']), []);
        assert.equal(await txn.commit('test', 'nothing'), null);
        assert.equal(await w.head(), head);
      } finally {
        await w.close();
      }
    });

    test('an upsert replaces the document in one version; its old chunk is gone from every index', async () => {
      const name = await fresh();
      const changed: DocSpec = { ...CORPUS[3], text: 'sea ice extent updated with walrus counts', vector: axis(1, 0.3) };
      await writeVersion(store, name, [changed], ['doc-d']);
      const r = await store.openReader(name);
      try {
        assert.equal((await r.counts()).documents, CORPUS.length);
        assert.equal((await r.searchLexical(analyze('temperature'), 5)).length, 0);
        const walrus = await r.searchLexical(analyze('walrus'), 5);
        const [row] = await r.chunks(walrus.map((h) => h.id));
        assert.equal(row.docId, 'doc-d');
        assert.equal(row.docVersion, 2);
      } finally {
        await r.close();
      }
    });

    test('the embedding cache gives back stored vectors by their input hash, bit for bit', async () => {
      const name = await fresh();
      const w = await store.openWriter(name);
      try {
        const hashes = CORPUS.map((d) => chunkOf(d).embedHash);
        const got = await w.cachedVectors([...hashes, 'e-unknown']);
        assert.equal(got.size, CORPUS.length);
        for (const d of CORPUS) assert.deepEqual([...got.get(chunkOf(d).embedHash)!], [...d.vector]);
        assert.equal(got.has('e-unknown'), false);
      } finally {
        await w.close();
      }
    });

    test('the tier-2 cache keeps vectors per model and hash, where the backend has one', async () => {
      const name = await fresh();
      const r = await store.openReader(name);
      try {
        const t2 = r.tier2();
        if (t2 === null) return;
        t2.put('m1', [['h1', Float32Array.of(1, 2, 3)]]);
        assert.deepEqual([...t2.get('m1', ['h1', 'h2']).get('h1')!], [1, 2, 3]);
        assert.equal(t2.get('m2', ['h1']).size, 0);
      } finally {
        await r.close();
      }
    });

    test(opts.singleWriter ? 'one writer at a time' : 'concurrent writers each commit their own version', async () => {
      const name = await fresh([]);
      const w = await store.openWriter(name);
      try {
        if (opts.singleWriter) {
          await assert.rejects(store.openWriter(name), (e: unknown) => e instanceof QuarryError && /another|lock|busy|writ/i.test((e as Error).message));
        } else {
          const w2 = await store.openWriter(name);
          const [t1, t2] = [await w.begin(), await w2.begin()];
          await t1.write(batchOf([CORPUS[0]]));
          await t2.write(batchOf([CORPUS[1]]));
          const [v1, v2] = [await t1.commit('test', 'w1'), await t2.commit('test', 'w2')];
          assert.ok(v1 && v2 && v1.id !== v2.id);
          await w2.close();
        }
      } finally {
        await w.close();
      }
      const again = await store.openWriter(name);
      await again.close();
    });

    test('drop removes the collection; opening it then fails with a not-found error', async () => {
      const name = await fresh();
      await store.drop(name);
      assert.equal(await store.exists(name), false);
      assert.ok(!(await store.list()).includes(name));
      await assert.rejects(store.openReader(name), (e: unknown) => e instanceof QuarryError && (e as QuarryError).code === 'COLLECTION_NOT_FOUND');
      await assert.rejects(store.manifest(name), (e: unknown) => e instanceof QuarryError && (e as QuarryError).code === 'COLLECTION_NOT_FOUND');
    });
  });
}
