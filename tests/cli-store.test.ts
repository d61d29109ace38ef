import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './support/cli.js';
import { SEEDS_DIR, tempDir } from './support/env.js';

let dir: { path: string; cleanup: () => Promise<void> };
let notes: string;
before(async () => {
  dir = await tempDir();
  notes = join(dir.path, 'notes');
  await mkdir(notes);
  await writeFile(join(notes, 'orders.md'), '---\nteam: logistics\nyear: 2024\n---\n# Orders\n\nThe parcel for order ORD-2024-00042 left the Hamburg warehouse on Monday.\n');
  await writeFile(join(notes, 'volcano.md'), '---\nteam: science\nyear: 2019\n---\n# Volcanoes\n\nKrakatoa erupted in 1883 and the sound was heard thousands of kilometres away.\n');
});
after(async () => {
  await dir.cleanup();
});

const data = () => ['--data', dir.path];
const json = <T>(s: string): T => JSON.parse(s) as T;

test('index with --index hnsw, info shows the index and its measured recall, search takes per-query knobs', async () => {
  const idx = await runCli(['index', SEEDS_DIR, notes, '--index', 'hnsw', '--hnsw-m', '8', '--ef-search', '32', ...data()]);
  assert.equal(idx.code, 0, idx.stderr);
  assert.match(idx.stdout, /index hnsw .*measured recall@10/);
  const info = json<{ ann: { type: string; recallAt10: number; params: Record<string, number> }; index: { type: string } }>(
    (await runCli(['info', '--json', ...data()])).stdout,
  );
  assert.equal(info.index.type, 'hnsw');
  assert.equal(info.ann.type, 'hnsw');
  assert.equal(info.ann.params.connectivity, 8);
  assert.ok(info.ann.recallAt10 > 0.9);
  const s = await runCli(['search', 'why did search return wrong results after a library upgrade', '--ef-search', '128', '--json', ...data()]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(json<{ results: Array<{ docId: string }> }>(s.stdout).results[0].docId, /000_28c76942766aa899\.txt$/);
  const bad = await runCli(['index', notes, '--nlist', '8', ...data()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /need --index/);
});

test('search --filter keeps only matching documents; a bad filter is a usage error', async () => {
  const s = await runCli(['search', 'shipping a parcel', '--filter', '{"team": "science"}', '--json', ...data()]);
  assert.equal(s.code, 0, s.stderr);
  const res = json<{ results: Array<{ metadata: { team: string } }> }>(s.stdout);
  assert.ok(res.results.length > 0);
  assert.ok(res.results.every((r) => r.metadata.team === 'science'));
  const range = json<{ results: Array<{ metadata: { year: number } }> }>(
    (await runCli(['search', 'events', '--filter', '{"year": {"$gte": 2020}}', '--json', ...data()])).stdout,
  );
  assert.ok(range.results.length > 0 && range.results.every((r) => r.metadata.year >= 2020));
  const bad = await runCli(['search', 'x', '--filter', '{"year": {"$around": 3}}', ...data()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown operator \$around/);
});

test('delete, versions, rollback, check, gc and compact from the command line', async () => {
  const orders = join(notes, 'orders.md');
  const del = await runCli(['delete', orders, ...data()]);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, /deleted 1 document/);
  const v = json<{ versions: Array<{ version: number; kind: string; current: boolean }> }>((await runCli(['versions', '--json', ...data()])).stdout);
  assert.deepEqual(v.versions.map((x) => x.kind), ['index', 'delete']);
  const gone = await runCli(['search', 'order ORD-2024-00042', '-k', '50', '--json', ...data()]);
  assert.ok(json<{ results: Array<{ docId: string }> }>(gone.stdout).results.every((r) => r.docId !== orders));
  const rb = await runCli(['rollback', '1', ...data()]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, /version 3 is current: rolled back to version 1/);
  const back = await runCli(['search', 'order ORD-2024-00042 Hamburg parcel', '-k', '3', '--json', ...data()]);
  assert.ok(json<{ results: Array<{ docId: string }> }>(back.stdout).results.some((r) => r.docId === orders));
  const missing = await runCli(['rollback', '42', ...data()]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /version 42 does not exist/);
  const ok = await runCli(['check', ...data()]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^OK: collection "default" version 3/m);
  const gc = await runCli(['gc', '--keep', '1', '--json', ...data()]);
  assert.equal(gc.code, 0, gc.stderr);
  assert.equal(json<{ versionsRemoved: number }>(gc.stdout).versionsRemoved, 2);
  const compact = await runCli(['compact', ...data()]);
  assert.equal(compact.code, 0, compact.stderr);
  assert.match(compact.stdout, /compacted: /);
  assert.equal((await runCli(['check', ...data()])).code, 0);
});
