import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SEEDS_DIR, tempDir } from './support/env.js';
import { runCli } from './support/cli.js';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.cleanup();
});

const data = () => ['--data', dir.path];

test('quarry index, then quarry search --json answers the documented shape', async () => {
  const idx = await runCli(['index', SEEDS_DIR, ...data()]);
  assert.equal(idx.code, 0, idx.stderr);
  assert.match(idx.stdout, /created collection "default".*2 added/);

  const s = await runCli(['search', 'why did search return wrong results after a library upgrade', '--mode', 'vector', '--chunks', '--json', ...data()]);
  assert.equal(s.code, 0, s.stderr);
  const out = JSON.parse(s.stdout);
  assert.equal(out.query, 'why did search return wrong results after a library upgrade');
  assert.equal(out.results.length, 10);
  const r = out.results[0];
  for (const key of ['rank', 'score', 'chunkId', 'docId', 'source', 'text', 'scores']) assert.ok(key in r, `missing ${key}`);
  assert.equal(r.rank, 1);
  assert.equal(r.scores.vector, r.score);
  assert.match(r.docId, /000_28c76942766aa899\.txt$/);

  const human = await runCli(['search', 'tiered retrieval with a cross-encoder on top candidates', '-k', '3', '--mode', 'vector', '--chunks', ...data()]);
  assert.equal(human.code, 0);
  assert.match(human.stdout.split('\n')[0], /^1\. 0\.\d{4} .*001_03e8fad0148eee93\.txt/);
  assert.equal(human.stdout.match(/^\d+\. /gm)?.length, 3);
});

test('searching with another model fails with one clear line and a non-zero exit', async () => {
  const s = await runCli(['search', 'anything', '--model', 'BAAI/bge-small-en-v1.5', ...data()]);
  assert.equal(s.code, 4);
  assert.equal(s.stdout, '');
  const lines = s.stderr.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^quarry: error: collection "default" was built with sentence-transformers\/all-MiniLM-L6-v2 .* but BAAI\/bge-small-en-v1\.5/);
});

test('info --json reports the model identity and sizes; verify passes', async () => {
  const i = await runCli(['info', '--json', ...data()]);
  assert.equal(i.code, 0, i.stderr);
  const info = JSON.parse(i.stdout);
  assert.equal(info.documents, 2);
  assert.equal(info.model.id, 'sentence-transformers/all-MiniLM-L6-v2');
  assert.match(info.model.weightsSha256, /^[0-9a-f]{64}$/);
  assert.equal(info.model.dims, 384);
  assert.ok(info.disk.vectorBytes >= info.chunks * 384 * 4);
  const v = await runCli(['verify', ...data()]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^OK: /m);
});

test('usage errors and missing collections exit non-zero with a message', async () => {
  const noArgs = await runCli(['search', 'x', '-k', 'ten', ...data()]);
  assert.equal(noArgs.code, 2);
  assert.match(noArgs.stderr, /integer/);
  const missing = await runCli(['search', 'x', '--collection', 'nope', ...data()]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /collection "nope" does not exist/);
  const empty = await runCli(['search', '  ', ...data()]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /query is empty/);
  const cutoff = await runCli(['search', 'library upgrade', '--min-score', '0.99', ...data()]);
  assert.equal(cutoff.code, 0);
  assert.match(cutoff.stdout, /no results at or above --min-score 0.99 \(cosine similarity\)/);
});

test('a reader that stops early (| head) ends the command quietly, without an EPIPE stack', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('./support/env.js');
  const child = spawn(process.execPath, [CLI, 'models', 'list', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.destroy(); // the reader is gone before the first line is written
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/);
  assert.equal(code, 0);
});
