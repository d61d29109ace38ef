import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError, QuarryError } from '../src/errors.js';
import { defaultNlist, defaultNprobe, IdLocations, IvfIndex } from '../src/index/ivf-index.js';
import { createIndex, loadIndex } from '../src/index/registry.js';
import { runConformance } from './support/index-conformance.js';
import { bruteForce, clusteredVectors, recallAt, row } from './support/vectors.js';

// Probing every list scans everything: IVF must then equal brute force exactly.
runConformance('ivf, nprobe = nlist', (d) => new IvfIndex(d, { nlist: 32, nprobe: 32 }), {
  exact: true,
  load: (p) => IvfIndex.load(p),
});

// nprobe 6 of 32 lists on the suite's 3000 x 128 clustered data: recall@10 measured 1.000;
// scores inside the probed lists are exact.
runConformance('ivf, nprobe 6 of 32', (d) => new IvfIndex(d, { nlist: 32, nprobe: 6 }), {
  exact: false,
  recallFloor: 0.95,
  scoreTolerance: 1e-5,
  smallParams: { nprobe: 32 },
  load: (p) => IvfIndex.load(p),
});

const invalid = (e: unknown): boolean => e instanceof InvalidInputError;

describe('ivf specifics', () => {
  const dims = 48;
  // Wide clusters that overlap, so that probing few lists misses neighbours.
  const data = clusteredVectors({ count: 3000, dims, clusters: 40, spread: 2.5, queries: 60, seed: 11 });
  const truth = Array.from({ length: data.queryCount }, (_, i) => bruteForce(data.data, data.ids, dims, row(data.queries, dims, i)));
  let trained: IvfIndex;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quarry-ivf-'));
    trained = new IvfIndex(dims, { nlist: 40 });
    trained.train(data.data, data.count);
    trained.add(data.ids, data.data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const recallAtNprobe = (idx: IvfIndex, nprobe: number): number => {
    let sum = 0;
    for (let i = 0; i < data.queryCount; i++) sum += recallAt(10, truth[i], idx.search(row(data.queries, dims, i), 10, { nprobe }));
    return sum / data.queryCount;
  };

  test('nprobe = nlist gives exactly the brute-force hits and scores', () => {
    for (let i = 0; i < data.queryCount; i++) {
      const hits = trained.search(row(data.queries, dims, i), 20, { nprobe: 40 });
      assert.deepEqual(hits.map((h) => h.id), truth[i].slice(0, 20).map((h) => h.id), `query ${i}`);
      hits.forEach((h, j) => assert.ok(Math.abs(h.score - truth[i][j].score) < 1e-9));
    }
  });

  test('recall rises with nprobe', (t) => {
    const probes = [1, 2, 4, 8, 16, 40];
    const recalls = probes.map((p) => recallAtNprobe(trained, p));
    t.diagnostic(`recall@10 by nprobe ${probes.map((p, i) => `${p}: ${recalls[i].toFixed(3)}`).join(', ')}`);
    for (let i = 1; i < recalls.length; i++) assert.ok(recalls[i] >= recalls[i - 1], `nprobe ${probes[i]} below nprobe ${probes[i - 1]}`);
    assert.ok(recalls[0] < 0.9, `nprobe 1 should miss neighbours on overlapping clusters, got ${recalls[0]}`);
    assert.equal(recalls[recalls.length - 1], 1);
  });

  test('defaults: nlist about sqrt(n) with 39+ vectors a list, nprobe a fifth of the lists (at least 20)', () => {
    assert.equal(defaultNlist(2000), 45);
    assert.equal(defaultNlist(20_000), 141);
    assert.equal(defaultNlist(1000), 25, 'capped at n / 39');
    assert.equal(defaultNlist(10), 1);
    assert.equal(defaultNprobe(141), 29);
    assert.equal(defaultNprobe(418), 84);
    assert.equal(defaultNprobe(32), 20);
    assert.equal(defaultNprobe(4), 4);
    const idx = new IvfIndex(dims);
    assert.deepEqual([idx.stats().params.nlist, idx.stats().params.nprobe], ['auto', 'auto']);
    idx.train(data.data.subarray(0, 2000 * dims), 2000);
    assert.deepEqual([idx.stats().params.nlist, idx.stats().params.nprobe], [45, 20]);
  });

  test('training errors are clear and leave the index untrained', (t) => {
    const idx = new IvfIndex(dims, { nlist: 50 });
    assert.throws(() => idx.add([1], row(data.data, dims, 0)), (e) => invalid(e) && /not trained.*train\(\)/.test((e as Error).message));
    assert.throws(() => idx.train(data.data.subarray(0, 49 * dims), 49), (e) => invalid(e) && /at least nlist = 50/.test((e as Error).message));
    assert.equal(idx.needsTraining, true);
    assert.throws(() => idx.train(data.data.subarray(0, 10), 1), invalid, 'fewer floats than count x dims');
    // Fewer than 39 a list trains, with a warning (as FAISS warns).
    const warn = t.mock.method(process, 'emitWarning', () => undefined);
    idx.train(data.data.subarray(0, 500 * dims), 500);
    assert.equal(warn.mock.callCount(), 1);
    assert.match(String(warn.mock.calls[0].arguments[0]), /1950/);
    idx.add([1], row(data.data, dims, 0));
    assert.throws(() => idx.train(data.data, data.count), (e) => invalid(e) && /already holds 1 vectors/.test((e as Error).message));
    assert.throws(() => new IvfIndex(dims, { nlist: 0 }), invalid);
    assert.throws(() => new IvfIndex(dims, { nprobe: 2.5 }), invalid);
    assert.throws(() => trained.search(row(data.queries, dims, 0), 10, { nprobe: 0 }), invalid);
  });

  test('training is deterministic for a seed', () => {
    const a = new IvfIndex(dims, { nlist: 20, seed: 5 });
    const b = new IvfIndex(dims, { nlist: 20, seed: 5 });
    a.train(data.data, data.count);
    b.train(data.data, data.count);
    a.add(data.ids, data.data);
    b.add(data.ids, data.data);
    for (let i = 0; i < 10; i++) {
      const q = row(data.queries, dims, i);
      assert.deepEqual(a.search(q, 10, { nprobe: 3 }), b.search(q, 10, { nprobe: 3 }));
    }
  });

  test('swap-removal keeps every list and the id map consistent', () => {
    const idx = new IvfIndex(dims, { nlist: 16 });
    idx.train(data.data, data.count);
    idx.add(data.ids, data.data);
    const gone = new Set<number>();
    for (let i = 0; i < data.count; i += 3) gone.add(data.ids[i]);
    assert.equal(idx.remove([...gone]), gone.size);
    // Re-add a third of the removed ones with other vectors: replaced, not duplicated.
    const back = [...gone].filter((_, i) => i % 3 === 0);
    const vecs = new Float32Array(back.length * dims);
    back.forEach((_, i) => vecs.set(row(data.queries, dims, i % data.queryCount), i * dims));
    idx.add(back, vecs);
    for (const id of back) gone.delete(id);
    assert.equal(idx.size, data.count - gone.size);
    const live = new Map<number, Float32Array>();
    for (let i = 0; i < data.count; i++) if (!gone.has(data.ids[i])) live.set(data.ids[i], row(data.data, dims, i));
    back.forEach((id, i) => live.set(id, row(vecs, dims, i)));
    const ids = [...live.keys()];
    const matrix = new Float32Array(ids.length * dims);
    ids.forEach((id, i) => matrix.set(live.get(id)!, i * dims));
    for (let i = 0; i < 10; i++) {
      const q = row(data.queries, dims, i);
      const hits = idx.search(q, 15, { nprobe: 16 });
      assert.deepEqual(hits.map((h) => h.id), bruteForce(matrix, ids, dims, q).slice(0, 15).map((h) => h.id));
    }
    for (const id of gone) assert.equal(idx.has(id), false);
    for (const id of ids) assert.equal(idx.has(id), true);
  });

  test('memory: the vectors, their ids and a compact id map', () => {
    const bytes = trained.stats().memoryBytes;
    const vectors = data.count * dims * 4;
    assert.ok(bytes >= vectors + data.count * 8, `${bytes} bytes cannot hold ${data.count} vectors and ids`);
    assert.ok(bytes <= vectors * 1.6, `${bytes} bytes for ${vectors} bytes of vectors`);
  });

  test('registered: createIndex and loadIndex', async () => {
    const idx = createIndex('ivf', dims, { nlist: 8, nprobe: 2 });
    assert.ok(idx instanceof IvfIndex);
    assert.deepEqual([idx.stats().params.nlist, idx.stats().params.nprobe], [8, 2]);
    assert.throws(() => createIndex('ivf', dims, { nlists: 8 }), (e) => invalid(e) && /unknown ivf index param "nlists"/.test((e as Error).message));
    assert.throws(() => createIndex('ivf', dims, { nlist: '8' }), invalid);
    const path = join(dir, 'registered.qidx');
    await trained.save(path);
    const back = await loadIndex(path);
    assert.ok(back instanceof IvfIndex);
    assert.equal(back.size, trained.size);
    assert.deepEqual(back.stats().params, trained.stats().params);
    const q = row(data.queries, dims, 0);
    assert.deepEqual(back.search(q, 10), trained.search(q, 10));
  });

  test('an untrained index saves and loads untrained; auto params stay auto', async () => {
    const path = join(dir, 'untrained.qidx');
    await new IvfIndex(dims).save(path);
    const back = await IvfIndex.load(path);
    assert.equal(back.needsTraining, true);
    assert.equal(back.stats().params.nlist, 'auto');
    back.train(data.data, data.count);
    assert.equal(back.stats().params.nlist, defaultNlist(data.count));
  });

  test('errors are QuarryErrors with the invalid-input category', () => {
    try {
      trained.search(new Float32Array(3), 10);
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof QuarryError);
      assert.equal(e.category, 'invalid-input');
      assert.match(e.message, /3 dimensions/);
    }
  });
});

describe('IdLocations (id -> list, slot)', () => {
  test('agrees with a Map through inserts, updates, deletes and growth', () => {
    const map = new IdLocations();
    const ref = new Map<number, [number, number]>();
    let seed = 1;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (let step = 0; step < 20_000; step++) {
      // Ids from a small range collide and probe; some large ones exercise the high bits.
      const id = rnd() < 0.9 ? Math.floor(rnd() * 3000) : Math.floor(rnd() * 2 ** 53);
      if (rnd() < 0.35) {
        assert.equal(map.delete(id), ref.delete(id));
      } else {
        const loc: [number, number] = [Math.floor(rnd() * 100), Math.floor(rnd() * 1e6)];
        map.set(id, loc[0], loc[1]);
        ref.set(id, loc);
      }
    }
    assert.equal(map.size, ref.size);
    for (const [id, [list, slot]] of ref) {
      const b = map.find(id);
      assert.ok(b >= 0, `id ${id} lost`);
      assert.deepEqual([map.listAt(b), map.slotAt(b)], [list, slot]);
    }
    for (let id = 0; id < 3000; id++) if (!ref.has(id)) assert.equal(map.find(id), -1);
  });
});
