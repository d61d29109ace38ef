import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { deleteDocuments } from '../src/api/delete-documents.js';
import { indexPaths } from '../src/api/index-paths.js';
import { info } from '../src/api/info.js';
import { search } from '../src/api/search.js';
import { compact, gc, rollback, versions } from '../src/api/versions.js';
import { CollectionCorruptError, InvalidInputError } from '../src/errors.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
let src: string;
before(async () => {
  dir = await tempDir();
  embedder = await HashEmbedder.create();
  src = join(dir.path, 'src');
  await mkdir(src);
});
after(async () => {
  await dir.cleanup();
});

const opts = (collection: string) => ({ dataDir: join(dir.path, 'data'), collection, embedder });

async function dirBytes(p: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(p, { withFileTypes: true })) {
    const q = join(p, e.name);
    n += e.isDirectory() ? await dirBytes(q) : (await stat(q)).size;
  }
  return n;
}

test('every write is a version; rollback restores an earlier live set as a new version', async () => {
  await writeFile(join(src, 'a.txt'), 'Alpha document about apples.');
  await writeFile(join(src, 'b.txt'), 'Beta document about bananas.');
  const r1 = await indexPaths([src], opts('v'));
  assert.equal(r1.generation, 1);
  await writeFile(join(src, 'a.txt'), 'Alpha document, rewritten, about apricots.');
  await writeFile(join(src, 'c.txt'), 'Gamma document about cherries.');
  const r2 = await indexPaths([src], opts('v'));
  assert.equal(r2.generation, 2);
  assert.equal(r2.documentsUpdated, 1);
  assert.equal(r2.documentsAdded, 1);
  const nothing = await indexPaths([src], opts('v'));
  assert.equal(nothing.generation, null, 'an unchanged re-index makes no version');
  const del = await deleteDocuments([join(src, 'b.txt'), '/no/such/doc'], opts('v'));
  assert.deepEqual(del.deleted, [join(src, 'b.txt')]);
  assert.deepEqual(del.notFound, ['/no/such/doc']);
  assert.equal(del.generation, 3);

  let list = await versions(opts('v'));
  assert.deepEqual(list.map((v) => [v.version, v.kind, v.documents, v.current]), [
    [1, 'index', 2, false],
    [2, 'index', 3, false],
    [3, 'delete', 2, true],
  ]);
  assert.match(list[0].model, /test\/hash-embedder/);
  assert.equal(list[0].index.type, 'flat');

  const texts = async () => (await search('document', { ...opts('v'), k: 10 })).results.map((r) => r.text).sort();
  assert.deepEqual(await texts(), ['Alpha document, rewritten, about apricots.', 'Gamma document about cherries.']);
  const rb = await rollback(1, opts('v'));
  assert.equal(rb.version, 4);
  assert.equal(rb.kind, 'rollback');
  assert.deepEqual(await texts(), ['Alpha document about apples.', 'Beta document about bananas.']);
  // roll the rollback back
  await rollback(3, opts('v'));
  assert.deepEqual(await texts(), ['Alpha document, rewritten, about apricots.', 'Gamma document about cherries.']);
  list = await versions(opts('v'));
  assert.equal(list.at(-1)!.version, 5);
  await assert.rejects(rollback(99, opts('v')), InvalidInputError);
  assert.equal((await check(opts('v'))).ok, true);
});

test('re-ingesting unchanged content is free: the embedding cache serves every chunk', async () => {
  await writeFile(join(src, 'long.txt'), Array.from({ length: 200 }, (_, i) => `Sentence ${i} of a long text about caching.`).join(' '));
  const first = await indexPaths([join(src, 'long.txt')], opts('cache'));
  assert.ok(first.chunksWritten > 3);
  assert.equal(first.cacheHits, 0);
  // same content under another path: new document, no embedding needed
  await writeFile(join(src, 'copy.txt'), Array.from({ length: 200 }, (_, i) => `Sentence ${i} of a long text about caching.`).join(' '));
  const second = await indexPaths([join(src, 'copy.txt')], opts('cache'));
  assert.equal(second.cacheHits, second.chunksWritten);
  assert.equal(second.chunksEmbedded, 0, 'nothing was embedded');
  // an edit at the end re-embeds only the chunks that changed
  await writeFile(join(src, 'copy.txt'), Array.from({ length: 200 }, (_, i) => `Sentence ${i} of a long text about caching.`).join(' ') + ' A new ending.');
  const third = await indexPaths([join(src, 'copy.txt')], opts('cache'));
  assert.equal(third.documentsUpdated, 1);
  assert.ok(third.cacheHits >= third.chunksWritten - 2, `hits ${third.cacheHits} of ${third.chunksWritten}`);
  assert.equal(third.chunksEmbedded, third.chunksWritten - third.cacheHits);
  assert.ok(third.chunksEmbedded >= 1);
});

test('delete, gc and compact: deleted data leaves the disk, the bytes go down', async () => {
  const many = join(dir.path, 'many');
  await mkdir(many);
  for (let i = 0; i < 30; i++) {
    await writeFile(join(many, `doc${i}.txt`), Array.from({ length: 40 }, (_, j) => `Document ${i} sentence ${j} about topic ${i % 5}.`).join(' '));
  }
  await indexPaths([many], opts('gc'));
  const collectionDir = join(dir.path, 'data', 'gc');
  const full = await dirBytes(collectionDir);
  const victims = Array.from({ length: 20 }, (_, i) => join(many, `doc${i}.txt`));
  await deleteDocuments(victims, opts('gc'));
  assert.equal((await info(opts('gc'))).documents, 10);
  // still restorable: the old version holds them
  const kept = await gc({ ...opts('gc'), keep: 10 });
  assert.equal(kept.versionsRemoved, 0);
  const after = await gc({ ...opts('gc'), keep: 1 });
  assert.equal(after.versionsRemoved, 1);
  assert.ok(after.chunksRemoved > 0);
  assert.ok(after.vectorsDropped > 0);
  const small = await dirBytes(collectionDir);
  assert.ok(small < full * 0.8, `bytes ${full} -> ${small}`);
  assert.equal((await check(opts('gc'))).ok, true);
  const res = await search('Document 25 sentence', { ...opts('gc'), k: 50 });
  assert.ok(res.results.length > 0 && res.results.every((r) => !victims.includes(r.docId)));
  // nothing more to reclaim
  const again = await compact(opts('gc'));
  assert.equal(again.vectorsDropped, 0);
  await assert.rejects(rollback(1, opts('gc')), /removed by gc/);
});

test('check fails loudly on a truncated segment or a damaged database', async () => {
  await writeFile(join(src, 'x.txt'), 'Something to damage later.');
  await indexPaths([join(src, 'x.txt')], opts('dmg'));
  const vec = join(dir.path, 'data', 'dmg', 'vectors');
  const [seg] = await readdir(vec);
  await truncate(join(vec, seg), 10);
  const r = await check(opts('dmg'));
  assert.equal(r.ok, false);
  assert.match(r.problems.join('\n'), /truncated/);
  await assert.rejects(search('damage', opts('dmg')), CollectionCorruptError);
  await unlink(join(vec, seg));
  assert.match((await check(opts('dmg'))).problems.join('\n'), /missing/);
  await writeFile(join(dir.path, 'data', 'dmg', 'meta.sqlite'), 'this is not a database');
  // a database SQLite cannot open is reported like any other damage, not thrown
  const unopenable = await check(opts('dmg'));
  assert.equal(unopenable.ok, false);
  assert.match(unopenable.problems.join('\n'), /meta\.sqlite is damaged \(SQLite: file is not a database\)/);
});
