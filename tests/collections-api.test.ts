import { LocalReader } from '../src/store/local/local-reader.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectionNames, createCollection, deleteCollection, listCollections } from '../src/api/collections.js';
import { search, searchSession } from '../src/api/search.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { versions } from '../src/api/versions.js';
import { CollectionExistsError, CollectionLockedError, CollectionNotFoundError, InvalidInputError } from '../src/errors.js';
import { SearchSession } from '../src/retrieve/session.js';
import { Collection } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { docs } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
const opts = (collection: string) => ({ dataDir: join(dir.path, 'data'), collection, embedder });

before(async () => {
  dir = await tempDir('quarry-collections-api-');
  embedder = await HashEmbedder.create();
});

after(async () => {
  await dir.cleanup();
});

test('upsertDocuments: the indexPaths pipeline from memory; unchanged skipped, changes are new versions', async () => {
  const first = await upsertDocuments(
    [
      { id: 'a', text: 'Herons wade in shallow water.', title: 'Birds', metadata: { kind: 'bird' } },
      { id: 'b', text: 'Otters slide down muddy banks.', metadata: { kind: 'mammal' } },
      { id: 'empty', text: '  \n ' },
    ],
    opts('up'),
  );
  assert.equal(first.created, true);
  assert.equal(first.documentsAdded, 2);
  assert.equal(first.generation, 1);
  assert.deepEqual(first.problems.map((p) => [p.path, p.code]), [['empty', 'EMPTY']]);

  const same = await upsertDocuments([{ id: 'a', text: 'Herons wade in shallow water.', title: 'Birds', metadata: { kind: 'bird' } }], opts('up'));
  assert.equal(same.documentsUnchanged, 1);
  assert.equal(same.generation, null);
  // metadata alone changing is a new version of the document
  const meta = await upsertDocuments([{ id: 'a', text: 'Herons wade in shallow water.', title: 'Birds', metadata: { kind: 'heron' } }], opts('up'));
  assert.equal(meta.documentsUpdated, 1);
  assert.equal(meta.generation, 2);

  const res = await search('herons', { ...opts('up'), mode: 'bm25', filter: { kind: 'heron' } });
  assert.deepEqual(res.results.map((r) => [r.docId, r.title, r.source]), [['a', 'Birds', 'a']]);
  // the title is searchable (BM25 reads title + text)
  assert.deepEqual((await search('birds', { ...opts('up'), mode: 'bm25' })).results.map((r) => r.docId), ['a']);
  assert.deepEqual((await versions(opts('up'))).map((v) => v.note), ['upserted 3 document(s)', 'upserted 1 document(s)']);

  await assert.rejects(upsertDocuments([], opts('up')), InvalidInputError);
  await assert.rejects(upsertDocuments([{ id: 'x', text: 'a' }, { id: 'x', text: 'b' }], opts('up')), /appears twice/);
  await assert.rejects(upsertDocuments([{ id: '', text: 'a' }], opts('up')), InvalidInputError);
  await assert.rejects(upsertDocuments([{ id: 'm', text: 'a', metadata: [] as unknown as Record<string, unknown> }], opts('up')), /metadata must be a JSON object/);
});

test('createCollection: empty and searchable; refused when it exists or its settings are wrong', async () => {
  const s = await createCollection({ ...opts('empty'), chunkTokens: 128, overlapTokens: 16, index: { type: 'hnsw' } });
  assert.deepEqual([s.name, s.documents, s.chunks, s.version], ['empty', 0, 0, 0]);
  assert.match(s.model, /^test\/hash-embedder/);
  assert.deepEqual(s.chunking, { chunkTokens: 128, overlapTokens: 16 });
  for (const mode of ['vector', 'bm25', 'hybrid'] as const) assert.deepEqual((await search('anything', { ...opts('empty'), mode })).results, []);
  await assert.rejects(createCollection(opts('empty')), CollectionExistsError);
  await assert.rejects(createCollection({ ...opts('bad-chunks'), chunkTokens: 16, overlapTokens: 16 }), InvalidInputError);
  await assert.rejects(createCollection({ ...opts('bad-index'), index: { type: 'ivfpq', params: { pqM: 7 } } }), InvalidInputError);
  await assert.rejects(createCollection(opts('../escape')), InvalidInputError);
  assert.equal(existsSync(join(dir.path, 'data', 'bad-chunks')), false);
  assert.equal(existsSync(join(dir.path, 'data', 'bad-index')), false);
});

test('listCollections: every collection, sorted; a damaged one says why', async () => {
  await mkdir(join(dir.path, 'data', 'broken'), { recursive: true });
  await writeFile(join(dir.path, 'data', 'broken', 'manifest.json'), '{ truncated');
  await mkdir(join(dir.path, 'data', 'not-a-collection'), { recursive: true });
  const list = await listCollections({ dataDir: join(dir.path, 'data') });
  assert.deepEqual(list.map((c) => c.name), ['broken', 'empty', 'up']);
  const broken = list[0] as { error: { code: string } };
  assert.equal(broken.error.code, 'COLLECTION_CORRUPT');
  assert.deepEqual(await collectionNames(join(dir.path, 'nowhere')), []);
});

test('deleteCollection: refused while a writer holds the lock, then the whole folder goes', async () => {
  await upsertDocuments(docs('d', 3, 'wren'), opts('gone'));
  const writer = await Collection.open(join(dir.path, 'data'), 'gone', 'write');
  try {
    await assert.rejects(deleteCollection(opts('gone')), CollectionLockedError);
  } finally {
    await writer.close();
  }
  assert.deepEqual(await deleteCollection(opts('gone')), { collection: 'gone', deleted: true });
  assert.equal(existsSync(join(dir.path, 'data', 'gone')), false);
  assert.ok(!(await collectionNames(join(dir.path, 'data'))).includes('gone'));
  await assert.rejects(deleteCollection(opts('gone')), CollectionNotFoundError);
});

test('a reader pinned to a version sees exactly it while a writer commits (HNSW, BM25, filters)', async () => {
  await createCollection({ ...opts('pin'), index: { type: 'hnsw' } });
  await upsertDocuments(docs('one', 20, 'heron'), opts('pin'));
  const seen: Array<{ pinned: number; bm25: number; vector: number; filtered: number; liveAtHead: number }> = [];
  const check = async () => {
    const c = await Collection.open(join(dir.path, 'data'), 'pin', 'read');
    try {
      const pinned = c.pinHead();
      const session = new SearchSession(LocalReader.wrap(c), embedder, null);
      const ctx = { collection: c, session, embedder, reranker: null };
      const count = (r: { results: Array<{ docId: string }> }) => r.results.filter((x) => x.docId.startsWith('two-')).length;
      seen.push({
        pinned,
        bm25: count(await searchSession(ctx, 'otter', { mode: 'bm25', k: 1000 })),
        vector: count(await searchSession(ctx, 'note', { mode: 'vector', k: 1000 })),
        filtered: count(await searchSession(ctx, 'note', { mode: 'vector', k: 1000, filter: { batch: 'two' } })),
        liveAtHead: [...c.db.liveDocs().keys()].filter((d) => d.startsWith('two-')).length,
      });
    } finally {
      await c.close();
    }
  };
  const pending: Array<Promise<void>> = [];
  await upsertDocuments(docs('two', 20, 'otter'), { ...opts('pin'), batchChunks: 2, onCommit: () => pending.push(check()) });
  await Promise.all(pending);
  await check();
  assert.ok(seen.some((s) => s.pinned === 1 && s.liveAtHead > 0 && s.liveAtHead < 20), JSON.stringify(seen));
  for (const s of seen) {
    const n = s.pinned === 1 ? 0 : 20;
    assert.deepEqual([s.bm25, s.vector, s.filtered], [n, n, n], JSON.stringify(s));
  }
  assert.equal(seen.at(-1)!.pinned, 2);
});
