import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HnswIndex, IndexReadOnlyError } from '../src/index/hnsw-index.js';
import { InvalidInputError } from '../src/errors.js';
import { runConformance } from './support/index-conformance.js';
import { bruteForce, clusteredVectors, recallAt, row, type Clustered } from './support/vectors.js';

// Floors sit below what was measured on the suite's data (3000 x 128, 24 clusters, defaults
// M=16, efConstruction=128, efSearch=64): f32 1.000, f16 0.998, i8 0.892. i8 is usearch's own
// quantization (x * 127 / |x|, truncated), which caps recall whatever the ef: prefer f16.
runConformance('hnsw f32', (d) => new HnswIndex(d), {
  exact: false,
  recallFloor: 0.97,
  scoreTolerance: 1e-5,
  load: (p) => HnswIndex.load(p),
});
runConformance('hnsw f16', (d) => new HnswIndex(d, { quantization: 'f16' }), {
  exact: false,
  recallFloor: 0.97,
  scoreTolerance: 1e-3,
  load: (p) => HnswIndex.load(p),
});
runConformance('hnsw i8', (d) => new HnswIndex(d, { quantization: 'i8' }), {
  exact: false,
  recallFloor: 0.85,
  scoreTolerance: 0.15,
  load: (p) => HnswIndex.load(p),
});

describe('hnsw specifics', () => {
  const dims = 128;
  let data: Clustered;
  let idx: HnswIndex;
  let dir: string;
  const query = (i: number): Float32Array => row(data.queries, dims, i);
  const recall = (ix: HnswIndex, efSearch?: number): number => {
    let s = 0;
    for (let i = 0; i < data.queryCount; i++) {
      const q = query(i);
      s += recallAt(10, bruteForce(data.data, data.ids, dims, q), ix.search(q, 10, efSearch ? { efSearch } : undefined));
    }
    return s / data.queryCount;
  };

  before(async () => {
    data = clusteredVectors({ count: 3000, dims, seed: 11, spread: 1 });
    idx = new HnswIndex(dims);
    idx.add(data.ids, data.data);
    dir = await mkdtemp(join(tmpdir(), 'quarry-hnsw-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('per-query efSearch trades recall for speed', (t) => {
    const low = recall(idx, 10);
    const high = recall(idx, 256);
    t.diagnostic(`recall@10: efSearch 10 -> ${low.toFixed(3)}, 64 -> ${recall(idx).toFixed(3)}, 256 -> ${high.toFixed(3)}`);
    assert.ok(low < high, `efSearch 10 (${low}) should recall less than 256 (${high})`);
    assert.ok(high >= 0.99);
    // The default ef is the constructor's; a query may override it either way.
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(idx.search(query(i), 10), idx.search(query(i), 10, { efSearch: 64 }));
    }
    const narrow = new HnswIndex(dims, { expansionSearch: 10 });
    narrow.add(data.ids, data.data);
    assert.equal(recall(narrow), low, 'expansionSearch 10 at construction = efSearch 10 per query');
    assert.equal(recall(narrow, 256), high);
    assert.throws(() => idx.search(query(0), 10, { efSearch: 0 }), InvalidInputError);
  });

  test('every vector is reachable: a search for it finds it', () => {
    // Guards against usearch's concurrent-add orphans (unum-cloud/USearch#735).
    for (let i = 0; i < data.count; i++) {
      const hit = idx.search(row(data.data, dims, i), 1)[0];
      assert.equal(hit.id, data.ids[i], `vector ${i} is not reachable`);
    }
  });

  test('removal leaves tombstones that adds reuse and save/load keeps', async () => {
    const ix = new HnswIndex(dims);
    ix.add(data.ids.subarray(0, 1000), data.data.subarray(0, 1000 * dims));
    const tomb = (): unknown => ix.stats().params.tombstones;
    assert.equal(tomb(), 0);
    assert.equal(ix.remove(data.ids.subarray(0, 100)), 100);
    assert.equal(tomb(), 100);
    assert.equal(ix.size, 900);
    ix.add([1, 2, 3], data.data.subarray(0, 3 * dims));
    assert.equal(tomb(), 97, 'new ids reuse removed nodes');
    ix.add(data.ids.subarray(500, 510), data.data.subarray(0, 10 * dims));
    assert.equal(tomb(), 97, 're-adding an id removes then reuses: no net tombstone');
    assert.equal(ix.size, 903);
    const path = join(dir, 'tomb.qidx');
    await ix.save(path);
    const back = await HnswIndex.load(path);
    assert.equal(back.stats().params.tombstones, 97);
    assert.equal(back.size, 903);
    assert.ok(back.stats().memoryBytes > 903 * dims * 4, 'memory counts at least the vectors');
  });

  test('mmap load serves the same results read-only and leaves no temp files', async () => {
    const path = join(dir, 'mmap.qidx');
    await idx.save(path);
    const mapped = await HnswIndex.load(path, { mmap: true });
    assert.equal(mapped.size, idx.size);
    assert.equal(mapped.stats().params.mmap, true);
    for (let i = 0; i < data.queryCount; i++) assert.deepEqual(mapped.search(query(i), 10), idx.search(query(i), 10));
    assert.deepEqual(mapped.search(query(0), 10, { efSearch: 200 }), idx.search(query(0), 10, { efSearch: 200 }));
    assert.throws(() => mapped.add([1], query(0)), IndexReadOnlyError);
    assert.throws(() => mapped.remove([data.ids[0]]), IndexReadOnlyError);
    assert.equal(mapped.has(data.ids[0]), true);
    assert.ok(mapped.stats().memoryBytes < idx.stats().memoryBytes / 4, 'the graph and vectors stay on disk');
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('.')), [], 'no temp files left beside the index');
  });

  test('i8 scores are cosines, biased a little low by truncation', () => {
    const i8 = new HnswIndex(dims, { quantization: 'i8' });
    i8.add(data.ids, data.data);
    let bias = 0;
    let n = 0;
    for (let i = 0; i < data.queryCount; i++) {
      const q = query(i);
      const truth = new Map(bruteForce(data.data, data.ids, dims, q).map((h) => [h.id, h.score]));
      for (const h of i8.search(q, 10)) {
        bias += truth.get(h.id)! - h.score;
        n++;
      }
    }
    bias /= n;
    assert.ok(bias > 0 && bias < 0.1, `mean (true - i8) score ${bias}`);
  });

  test('bad options are refused', () => {
    assert.throws(() => new HnswIndex(dims, { connectivity: 1 }), InvalidInputError);
    assert.throws(() => new HnswIndex(dims, { quantization: 'b1' as never }), InvalidInputError);
    assert.throws(() => new HnswIndex(0), InvalidInputError);
  });
});
