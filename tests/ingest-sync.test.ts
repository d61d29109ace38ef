import assert from 'node:assert/strict';
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { isUnderRoot } from '../src/api/folder-sync.js';
import { indexPaths } from '../src/api/index-paths.js';
import { info } from '../src/api/info.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { rollback, versions } from '../src/api/versions.js';
import { Collection } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
before(async () => {
  dir = await tempDir('quarry-sync-');
  embedder = await HashEmbedder.create();
});
after(async () => {
  await dir.cleanup();
});

const data = () => join(dir.path, 'data');
const opts = (collection: string) => ({ dataDir: data(), collection, embedder });

/** The ids of the documents live at the collection's newest version, sorted. */
async function liveIds(collection: string): Promise<string[]> {
  const c = await Collection.open(data(), collection, 'read');
  try {
    c.pinHead();
    return c.db.liveDocuments(c.pinnedGeneration).map((d) => d.doc_id).sort();
  } finally {
    await c.close();
  }
}

async function files(root: string, names: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) {
    const p = join(root, n);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, `Document ${n}: a few words about ${n.replace(/\W/g, ' ')} to index.`);
    out.push(p);
  }
  return out;
}

test('indexing a folder again removes the documents whose files are gone, in the same new version; rollback brings them back', async () => {
  const root = join(dir.path, 'mirror');
  const [a, b, c, d, e] = await files(root, ['a.md', 'b.txt', 'c.txt', 'sub/d.txt', 'sub/e.txt']);
  const first = await indexPaths([root], opts('m'));
  assert.equal(first.documentsAdded, 5);
  assert.equal(first.documentsRemoved, 0);

  await unlink(b);
  await unlink(c);
  await rm(join(root, 'sub'), { recursive: true }); // a whole sub-folder gone
  await writeFile(a, 'Document a.md, rewritten in the same run.');
  const second = await indexPaths([root], opts('m'));
  assert.equal(second.documentsRemoved, 4);
  assert.equal(second.documentsUpdated, 1);
  assert.equal(second.generation, 2, 'the update and the removals are one version');
  assert.deepEqual(await liveIds('m'), [a]);
  assert.equal((await info(opts('m'))).documents, 1);
  assert.equal((await versions(opts('m'))).at(-1)!.documents, 1);
  assert.equal((await check(opts('m'))).ok, true);

  const again = await indexPaths([root], opts('m'));
  assert.equal(again.documentsRemoved, 0);
  assert.equal(again.generation, null, 'nothing left to remove: no new version');

  await rollback(1, opts('m'));
  assert.deepEqual(await liveIds('m'), [a, b, c, d, e].sort());
});

test('only documents under the root are touched: a sibling folder with a common prefix, other roots and API records are kept', async () => {
  const docs = join(dir.path, 'prefix', 'docs');
  const docs2 = join(dir.path, 'prefix', 'docs2');
  const [keep, gone] = await files(docs, ['keep.txt', 'gone.txt']);
  const [sibling, siblingGone] = await files(docs2, ['s.txt', 's-gone.txt']);
  await indexPaths([docs2], opts('p'));
  await indexPaths([docs], opts('p'));
  // a record written through the API whose id looks like a file under the root (there is no such file)
  const apiId = join(docs, 'from-the-api.txt');
  await upsertDocuments([{ id: apiId, text: 'A record handed over through the API, not a file.' }], opts('p'));

  await unlink(gone);
  await unlink(siblingGone);
  const r = await indexPaths([docs], opts('p'));
  assert.equal(r.documentsRemoved, 1);
  assert.deepEqual(await liveIds('p'), [apiId, keep, sibling, siblingGone].sort(), 'docs2 is another root: its gone file waits for docs2 to be indexed');

  const r2 = await indexPaths([docs2], opts('p'));
  assert.equal(r2.documentsRemoved, 1);
  assert.deepEqual(await liveIds('p'), [apiId, keep, sibling].sort());

  assert.equal(isUnderRoot(join(docs2, 's.txt'), docs), false);
  assert.equal(isUnderRoot(join(docs, 'x', 'y.txt'), docs), true);
  assert.equal(isUnderRoot(docs, docs), true);
});

test('prune: false (--no-prune) keeps the documents of files that are gone', async () => {
  const root = join(dir.path, 'noprune');
  const [a, b] = await files(root, ['a.txt', 'b.txt']);
  await indexPaths([root], opts('n'));
  await unlink(b);
  const r = await indexPaths([root], { ...opts('n'), prune: false });
  assert.equal(r.documentsRemoved, 0);
  assert.deepEqual(await liveIds('n'), [a, b]);
});

test('a file list mirrors its files; a root that cannot be read is not a deletion; a JSONL file is mirrored record by record', async () => {
  const root = join(dir.path, 'list');
  const [a, b] = await files(root, ['a.txt', 'b.txt']);
  const other = join(dir.path, 'list-other');
  const [o] = await files(other, ['o.txt']);
  const jsonl = join(root, 'corpus.jsonl');
  const rec = (id: string) => JSON.stringify({ _id: id, title: `Title ${id}`, text: `Record ${id} text about things.` });
  await writeFile(jsonl, [rec('r1'), rec('r2'), rec('r3')].join('\n') + '\n');
  await indexPaths([a, b, jsonl, other], opts('l'));
  assert.deepEqual(await liveIds('l'), [a, b, o, 'r1', 'r2', 'r3'].sort());

  await unlink(b);
  await rm(other, { recursive: true }); // unmounted, say: reported, never taken for a deletion
  await writeFile(jsonl, [rec('r1'), rec('r3')].join('\n') + '\n');
  const r = await indexPaths([a, b, jsonl, other], opts('l'));
  assert.deepEqual(r.problems.map((p) => p.path).sort(), [b, other].sort());
  assert.equal(r.documentsRemoved, 1, 'r2 left its file');
  assert.deepEqual(await liveIds('l'), [a, b, o, 'r1', 'r3'].sort(), 'paths that were not there are kept');

  const r2 = await indexPaths([a, jsonl], opts('l'));
  assert.equal(r2.documentsRemoved, 0, 'b.txt and list-other are not among these paths');
  const r3 = await indexPaths([root], opts('l'));
  assert.equal(r3.documentsRemoved, 1, 'the folder holds b.txt no longer');
  assert.deepEqual(await liveIds('l'), [a, o, 'r1', 'r3'].sort());
});
