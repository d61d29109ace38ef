import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { indexPaths } from '../src/api/index-paths.js';
import { info } from '../src/api/info.js';
import { search } from '../src/api/search.js';
import { verify } from '../src/api/verify.js';
import { InvalidInputError, ModelDriftError, ModelMismatchError } from '../src/errors.js';
import { modelsDir, SEEDS_DIR, tempDir } from './support/env.js';
import { closeEmbedders, MINILM, sharedEmbedder } from './support/model.js';

let dir: { path: string; cleanup: () => Promise<void> };
const INCIDENT = '000_28c76942766aa899.txt';
const TIERED = '001_03e8fad0148eee93.txt';

before(async () => {
  dir = await tempDir();
});
after(async () => {
  await closeEmbedders();
  await dir.cleanup();
});

const base = () => ({ dataDir: dir.path, modelsDir: modelsDir() });

/**
 * Every file under a folder with its size and mtime: proof that nothing was written. SQLite's
 * shared-memory index (-shm) and an empty WAL are its bookkeeping, created by any reader and
 * removed only when the last handle is collected, so they are left out; a WAL with content
 * (a write) is not.
 */
async function snapshot(root: string): Promise<string> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const f of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, f.name);
      if (f.isDirectory()) await walk(p);
      else {
        const s = await stat(p);
        if (p.endsWith('-shm') || (p.endsWith('-wal') && s.size === 0)) continue;
        out.push(`${p} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  await walk(root);
  return out.join('\n');
}

test('the seeds: index the folder, then each question finds its seed first', async () => {
  const report = await indexPaths([SEEDS_DIR], base());
  assert.equal(report.created, true);
  assert.equal(report.documentsAdded, 2);
  assert.ok(report.chunksWritten >= 10, `chunks: ${report.chunksWritten}`);
  assert.deepEqual(report.problems, []);

  // vector chunks: the pipeline's own output, before fusion and grouping
  const a = await search('why did search return wrong results after a library upgrade', { ...base(), mode: 'vector', chunks: true });
  assert.ok(a.results[0].docId.endsWith(INCIDENT), `first: ${a.results[0].docId}`);
  const b = await search('tiered retrieval with a cross-encoder on top candidates', base());
  assert.ok(b.results[0].docId.endsWith(TIERED), `first: ${b.results[0].docId}`);

  // result shape and lineage
  const r = a.results[0];
  assert.equal(r.rank, 1);
  assert.equal(r.scores.vector, r.score);
  assert.ok(r.score > 0.3 && r.score <= 1);
  const source = await readFile(r.source, 'utf8');
  assert.equal(source.slice(r.span.start, r.span.end), r.text, 'span points into the source text');
  assert.match(r.lineage.model, /all-MiniLM-L6-v2/);
  assert.match(r.lineage.contentHash, /^[0-9a-f]{64}$/);
  assert.ok(!Number.isNaN(Date.parse(r.lineage.ingestedAt)));
  for (let i = 1; i < a.results.length; i++) assert.ok(a.results[i - 1].score >= a.results[i].score);
  assert.equal(a.results.length, 10);
});

test('re-indexing unchanged files embeds nothing; a changed file replaces its old chunks', async () => {
  const again = await indexPaths([SEEDS_DIR], base());
  assert.equal(again.documentsUnchanged, 2);
  assert.equal(again.chunksWritten, 0);

  const docs = join(dir.path, 'sources-docs');
  await mkdir(docs);
  const note = join(docs, 'note.md');
  await writeFile(note, '---\ntitle: Orders\n---\n# Orders\n\nThe parcel for order ORD-7 left the warehouse in Hamburg.\n');
  await indexPaths([docs], { ...base(), collection: 'notes' });
  await writeFile(note, '---\ntitle: Orders\n---\n# Orders\n\nA volcano erupted on an island in the Pacific.\n');
  const upd = await indexPaths([docs], { ...base(), collection: 'notes' });
  assert.equal(upd.documentsUpdated, 1);
  const i = await info({ ...base(), collection: 'notes' });
  assert.equal(i.documents, 1);
  assert.equal(i.chunks, 1, 'old chunks are gone');
  const res = await search('volcano eruption', { ...base(), collection: 'notes' });
  assert.match(res.results[0].text, /volcano/);
  assert.equal(res.results[0].metadata.title, 'Orders');
});

test('another model is refused with the mismatch error, and nothing is written', async () => {
  const before = await snapshot(dir.path);
  const stored = (await info(base())).model.variant;
  const other = stored === 'fp32' ? 'int8' : 'fp32';
  for (const model of ['BAAI/bge-small-en-v1.5', `${MINILM}:${other}`]) {
    await assert.rejects(search('wrong results', { ...base(), model }), (e: unknown) => {
      assert.ok(e instanceof ModelMismatchError, String(e));
      assert.match((e as Error).message, /was built with sentence-transformers\/all-MiniLM-L6-v2/);
      return true;
    });
    await assert.rejects(indexPaths([SEEDS_DIR], { ...base(), model }), ModelMismatchError);
  }
  // a loaded embedder of another variant is caught by its full identity too
  const otherEmbedder = await sharedEmbedder(`${MINILM}:${other}`);
  await assert.rejects(search('wrong results', { ...base(), embedder: otherEmbedder }), ModelMismatchError);
  assert.equal(await snapshot(dir.path), before);
});

test('the similarity cutoff may return nothing; bad queries get clear errors', async () => {
  const none = await search('why did search return wrong results after a library upgrade', { ...base(), minScore: 0.99 });
  assert.deepEqual(none.results, []);
  const some = await search('why did search return wrong results after a library upgrade', { ...base(), minScore: 0.2, k: 50 });
  assert.ok(some.results.length > 0 && some.results.every((r) => r.scores.vector! >= 0.2));
  await assert.rejects(search('   ', base()), InvalidInputError);
  await assert.rejects(search('x'.repeat(20_000), base()), /limit is 16384/);
  await assert.rejects(search('ok', { ...base(), k: 0 }), /k must be an integer/);
  const long = await search('embedding drift after a model upgrade '.repeat(100), base());
  assert.equal(long.queryTruncated, true);
  assert.ok(long.results.length > 0);
});

test('bad files are reported with their path and reason, and the run goes on', async () => {
  const mixed = join(dir.path, 'sources-mixed');
  await mkdir(mixed);
  await writeFile(join(mixed, 'empty.txt'), '');
  await writeFile(join(mixed, 'junk.txt'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  await writeFile(join(mixed, 'broken.pdf'), '%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage');
  await writeFile(join(mixed, 'good.txt'), 'Semantic search compares fingerprints of meaning.');
  const problems: string[] = [];
  const r = await indexPaths([mixed], { ...base(), collection: 'mixed', onProblem: (p) => problems.push(p.path) });
  assert.equal(r.documentsAdded, 1);
  assert.equal(r.problems.length, 3);
  for (const name of ['empty.txt', 'junk.txt', 'broken.pdf']) {
    const p = r.problems.find((x) => x.path.endsWith(name));
    assert.ok(p, `${name} reported`);
    assert.ok(p!.reason.length > 5);
  }
  assert.equal(problems.length, 3);
  // a folder quarry did not make is never taken over (or deleted) as a collection
  await assert.rejects(indexPaths([mixed], { ...base(), collection: 'sources-mixed' }), /is not a quarry collection/);
  assert.ok((await readdir(mixed)).includes('good.txt'));
});

test('verify passes on the model that built the collection and catches a drifted fingerprint', async () => {
  const ok = await verify(base());
  assert.equal(ok.passed, true);
  assert.ok(ok.minCosine > 0.9999);
  // Simulate drift: the stored fingerprint no longer matches what the model produces.
  const manifestPath = join(dir.path, 'notes', 'manifest.json');
  const m = JSON.parse(await readFile(manifestPath, 'utf8'));
  m.fingerprint.vectors = m.fingerprint.vectors.map((v: number[]) => v.map((x: number, i: number) => (i % 2 ? -x : x)));
  await writeFile(manifestPath, JSON.stringify(m));
  const bad = await verify({ ...base(), collection: 'notes' });
  assert.equal(bad.passed, false);
  assert.ok(bad.minCosine < 0.95);
  await assert.rejects(indexPaths([SEEDS_DIR], { ...base(), collection: 'notes' }), ModelDriftError);
});
