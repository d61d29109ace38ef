import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { deleteDocuments } from '../src/api/delete-documents.js';
import { indexPaths } from '../src/api/index-paths.js';
import { info } from '../src/api/info.js';
import { search } from '../src/api/search.js';
import { rollback } from '../src/api/versions.js';
import { InvalidInputError } from '../src/errors.js';
import type { IndexSettings } from '../src/store/manifest.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
let corpus: string;
const N = 1500;

before(async () => {
  dir = await tempDir();
  embedder = await HashEmbedder.create(32);
  corpus = join(dir.path, 'corpus');
  await mkdir(corpus);
  const lines = Array.from({ length: N }, (_, i) =>
    JSON.stringify({ _id: `d${i}`, title: '', text: `Record ${i} speaks of theme ${i % 37} and place ${i % 11}.`, metadata: { group: i % 10, year: 2000 + (i % 25) } }),
  );
  await writeFile(join(corpus, 'corpus.jsonl'), lines.join('\n') + '\n');
});
after(async () => {
  await dir.cleanup();
});

const opts = (collection: string) => ({ dataDir: join(dir.path, 'data'), collection, embedder, batchChunks: 512 });
const ids = (r: Awaited<ReturnType<typeof search>>) => r.results.map((x) => x.docId);

test('every index type answers like exact search, records its measured recall, and follows deletes and rollbacks', async () => {
  await indexPaths([corpus], opts('exact'));
  const queries = ['Record 7 speaks of theme 7', 'theme 3 and place 4', 'Record 1200'];
  const truth = await Promise.all(queries.map((q) => search(q, { ...opts('exact'), k: 10 })));
  const configs: Array<{ name: string; index: IndexSettings; minRecall: number }> = [
    { name: 'hnsw', index: { type: 'hnsw' }, minRecall: 0.95 },
    { name: 'ivf', index: { type: 'ivf', params: { nlist: 16, nprobe: 16 } }, minRecall: 0.999 },
    { name: 'ivfpq', index: { type: 'ivfpq', params: { nlist: 8, nprobe: 8, pqM: 16, pqBits: 4, refine: 300 } }, minRecall: 0.95 },
  ];
  for (const cfg of configs) {
    const r = await indexPaths([corpus], { ...opts(cfg.name), index: cfg.index });
    assert.ok(r.ann, `${cfg.name}: index built`);
    assert.equal(r.ann!.type, cfg.name);
    assert.equal(r.ann!.fallback, null);
    assert.equal(r.ann!.vectors, N);
    assert.ok(r.ann!.recallAt10! >= cfg.minRecall, `${cfg.name} recall ${r.ann!.recallAt10}`);
    const i = await info(opts(cfg.name));
    assert.equal(i.ann!.recallAt10, r.ann!.recallAt10);
    let agree = 0;
    for (let q = 0; q < queries.length; q++) {
      const got = await search(queries[q], { ...opts(cfg.name), k: 10 });
      agree += ids(got).filter((d) => ids(truth[q]).includes(d)).length;
    }
    assert.ok(agree >= queries.length * 10 * cfg.minRecall - 1, `${cfg.name}: ${agree} of ${queries.length * 10} agree with exact`);

    // deletes leave the index at once; rollback brings them back
    const top = (await search(queries[0], { ...opts(cfg.name), k: 3 })).results.map((x) => x.docId);
    await deleteDocuments(top, opts(cfg.name));
    const after = ids(await search(queries[0], { ...opts(cfg.name), k: 10 }));
    assert.ok(top.every((d) => !after.includes(d)), `${cfg.name}: deleted documents are gone from results`);
    const versionBefore = (await info(opts(cfg.name))).version - 1;
    await rollback(versionBefore, opts(cfg.name));
    const back = ids(await search(queries[0], { ...opts(cfg.name), k: 3 }));
    assert.deepEqual(back, top, `${cfg.name}: rollback restores them`);
    assert.equal((await check(opts(cfg.name))).ok, true);
  }
});

test('cold start: too few vectors to train falls back to exact search, and trains once there are enough', async () => {
  const small = join(dir.path, 'small');
  await mkdir(small);
  await writeFile(join(small, 'a.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ _id: `s${i}`, title: '', text: `small record ${i}` })).join('\n'));
  const notes: string[] = [];
  const r = await indexPaths([small], { ...opts('cold'), index: { type: 'ivf', params: { nlist: 16 } }, onNote: (n) => notes.push(n) });
  assert.match(r.ann!.fallback ?? '', /too few to train ivf/);
  assert.equal(notes.length, 1);
  const res = await search('small record 3', { ...opts('cold'), k: 5 });
  assert.equal(res.results[0].docId, 's3');
  const grown = await indexPaths([corpus], opts('cold'));
  assert.equal(grown.ann!.fallback, null, 'trained once large enough');
  assert.ok(grown.ann!.recallAt10! > 0.5);
});

test('a selective metadata filter is searched exactly: only matches come back, best first', async () => {
  const filter = { group: 3, year: { $gte: 2020 } };
  for (const name of ['exact', 'hnsw']) {
    const res = await search('theme 5 and place 2', { ...opts(name), mode: 'vector', k: 20, filter });
    assert.ok(res.results.length > 0);
    for (const r of res.results) {
      assert.equal(r.metadata.group, 3);
      assert.ok((r.metadata.year as number) >= 2020);
    }
    // exact within the filter: equals scoring every matching record by brute force
    const matches = Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 === 3 && 2000 + (i % 25) >= 2020);
    const [q] = await embedder.embed(['theme 5 and place 2']);
    const vecs = await embedder.embed(matches.map((i) => `Record ${i} speaks of theme ${i % 37} and place ${i % 11}.`));
    const scored = matches.map((i, k) => ({ id: `d${i}`, s: vecs[k].reduce((acc, x, j) => acc + x * q[j], 0) }));
    scored.sort((a, b) => b.s - a.s);
    assert.deepEqual(res.results.map((r) => r.docId), scored.slice(0, 20).map((x) => x.id), name);
  }
  const none = await search('theme', { ...opts('hnsw'), filter: { group: 99 } });
  assert.deepEqual(none.results, []);
  await assert.rejects(search('theme', { ...opts('hnsw'), filter: '{"group": {"$regex": 1}}' }), InvalidInputError);
});

test('bad index settings are refused before anything is written', async () => {
  await assert.rejects(indexPaths([corpus], { ...opts('bad'), index: { type: 'ivfpq', params: { pqM: 7 } } }), InvalidInputError);
  await assert.rejects(indexPaths([corpus], { ...opts('bad'), index: { type: 'hnsw', params: { efSearhc: 10 } } }), /unknown hnsw index params/);
  await assert.rejects(indexPaths([corpus], { ...opts('bad'), index: { type: 'annoy' as never } }), /unknown index type/);
  await assert.rejects(info(opts('bad')), /does not exist/);
});
