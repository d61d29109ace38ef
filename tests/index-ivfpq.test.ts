import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError, QuarryError } from '../src/errors.js';
import { FlatIndex } from '../src/index/flat-index.js';
import { defaultPqM, IvfPqIndex, type IvfPqParams } from '../src/index/ivfpq-index.js';
import { createIndex, loadIndex } from '../src/index/registry.js';
import type { VectorSource } from '../src/index/vector-index.js';
import { runConformance } from './support/index-conformance.js';
import { bruteForce, clusteredVectors, recallAt, row } from './support/vectors.js';

/** Full-precision vectors by id, as a collection's vector store would hold them. */
class MemorySource implements VectorSource {
  private readonly rows = new Map<number, Float32Array>();
  fetches = 0;
  constructor(readonly dims: number) {}
  put(ids: ArrayLike<number>, vectors: Float32Array): void {
    for (let i = 0; i < ids.length; i++) this.rows.set(ids[i], vectors.slice(i * this.dims, (i + 1) * this.dims));
  }
  fetch(ids: ArrayLike<number>, out: Float32Array): void {
    this.fetches++;
    for (let i = 0; i < ids.length; i++) {
      const v = this.rows.get(ids[i]);
      if (!v) throw new Error(`no vector for id ${ids[i]}`);
      out.set(v, i * this.dims);
    }
  }
}

/**
 * An IVF-PQ index whose source follows its adds (the collection writes the vector store and
 * the index together); files saved by it load with the same source.
 */
const sourcesByFile = new Map<string, MemorySource>();
function withSource(idx: IvfPqIndex, source: MemorySource): IvfPqIndex {
  const add = idx.add.bind(idx);
  idx.add = (ids, vectors) => {
    add(ids, vectors);
    source.put(ids, vectors);
  };
  const save = idx.save.bind(idx);
  idx.save = async (path) => {
    await save(path);
    sourcesByFile.set(path, source);
  };
  return idx;
}
function makeIvfPq(params: IvfPqParams): (dims: number) => IvfPqIndex {
  return (dims) => {
    const source = new MemorySource(dims);
    return withSource(new IvfPqIndex(dims, params, source), source);
  };
}
async function loadIvfPq(path: string): Promise<IvfPqIndex> {
  const source = sourcesByFile.get(path);
  const idx = await IvfPqIndex.load(path, source);
  return source ? withSource(idx, source) : idx;
}

// The suite's data: 3000 x 128, trained on 1000 (24 lists, PQ 16 x 8 bits); nprobe 6 of 24,
// default refine (200). recall@10 measured 1.000; refined scores are exact.
runConformance('ivfpq, nprobe 6 of 24', makeIvfPq({ nlist: 24, nprobe: 6 }), {
  exact: false,
  recallFloor: 0.95,
  scoreTolerance: 1e-5,
  smallParams: { nprobe: 24 },
  trainSize: 1000,
  load: loadIvfPq,
});

const invalid = (e: unknown): boolean => e instanceof InvalidInputError;

describe('ivfpq specifics', () => {
  // 384 dims like MiniLM, wide overlapping clusters: PQ alone must lose neighbours here.
  const dims = 384;
  const data = clusteredVectors({ count: 3000, dims, clusters: 30, spread: 2, queries: 40, seed: 13 });
  const truth = Array.from({ length: data.queryCount }, (_, i) => bruteForce(data.data, data.ids, dims, row(data.queries, dims, i)));
  const source = new MemorySource(dims);
  source.put(data.ids, data.data);
  let idx: IvfPqIndex;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quarry-ivfpq-'));
    idx = new IvfPqIndex(dims, { nlist: 16 }, source);
    idx.train(data.data, 1500);
    idx.add(data.ids, data.data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const recall = (index: IvfPqIndex, params: { nprobe?: number; refine?: number }): number => {
    let sum = 0;
    for (let i = 0; i < data.queryCount; i++) sum += recallAt(10, truth[i], index.search(row(data.queries, dims, i), 10, params));
    return sum / data.queryCount;
  };

  test('defaults: pqM = dims / 8, 8 bits, refine 200, nprobe all of 16 lists (at least 20)', () => {
    assert.equal(defaultPqM(384), 48);
    assert.equal(defaultPqM(768), 96);
    assert.equal(defaultPqM(100), 10, 'a divisor near dims / 8 when 8 does not divide');
    const p = idx.stats().params;
    assert.deepEqual([p.pqM, p.pqBits, p.refine, p.nlist, p.nprobe, p.source], [48, 8, 200, 16, 16, true]);
  });

  test('refine rescues recall that PQ codes alone lose', (t) => {
    const adc = recall(idx, { nprobe: 16, refine: 0 });
    const refined = recall(idx, { nprobe: 16 });
    const fewer = recall(idx, { nprobe: 16, refine: 20 });
    t.diagnostic(`recall@10, all lists probed: refine 0 ${adc.toFixed(3)}, refine 20 ${fewer.toFixed(3)}, refine 200 ${refined.toFixed(3)}`);
    assert.ok(adc < 0.9, `PQ alone should lose neighbours here, got ${adc}`);
    assert.ok(refined > adc + 0.05, `refine ${refined} vs none ${adc}`);
    assert.ok(refined >= fewer);
    assert.ok(refined >= 0.97, `refine 200 over every list: ${refined}`);
  });

  test('refine 0 returns ADC estimates; refine > 0 returns exact scores', () => {
    const q = row(data.queries, dims, 0);
    const exact = new Map(truth[0].map((h) => [h.id, h.score]));
    for (const h of idx.search(q, 10)) assert.ok(Math.abs(h.score - exact.get(h.id)!) < 1e-6);
    const approx = idx.search(q, 10, { refine: 0 });
    assert.ok(approx.some((h) => Math.abs(h.score - exact.get(h.id)!) > 1e-4), 'ADC scores are estimates');
    for (const h of approx) assert.ok(Math.abs(h.score - exact.get(h.id)!) < 0.2, `ADC ${h.score} vs exact ${exact.get(h.id)}`);
  });

  test('refine without a VectorSource is a clear error at search; refine 0 works without one', () => {
    const bare = new IvfPqIndex(dims, { nlist: 4, pqBits: 4 });
    bare.train(data.data.subarray(0, 500 * dims), 500);
    bare.add(data.ids.subarray(0, 500), data.data.subarray(0, 500 * dims));
    const q = row(data.queries, dims, 1);
    assert.throws(() => bare.search(q, 10), (e) => invalid(e) && /needs a VectorSource/.test((e as Error).message));
    assert.equal(bare.search(q, 10, { refine: 0 }).length, 10);
    bare.attachSource(source);
    assert.equal(bare.search(q, 10).length, 10);
    assert.throws(() => bare.attachSource(new MemorySource(dims + 1)), (e) => invalid(e) && /385 dimensions/.test((e as Error).message));
    assert.throws(() => bare.search(q, 10, { refine: -1 }), invalid);
  });

  test('a failing source surfaces as an unavailable QuarryError', () => {
    const broken: VectorSource = {
      dims,
      fetch: () => {
        throw new Error('disk gone');
      },
    };
    const b = new IvfPqIndex(dims, { nlist: 4, pqBits: 4 }, broken);
    b.train(data.data.subarray(0, 500 * dims), 500);
    b.add(data.ids.subarray(0, 500), data.data.subarray(0, 500 * dims));
    assert.throws(
      () => b.search(row(data.queries, dims, 0), 10),
      (e) => e instanceof QuarryError && e.category === 'unavailable' && /disk gone/.test(e.message),
    );
  });

  test('memory: codes + ids + id map, at most 1/8 of a flat index of the same vectors', (t) => {
    const flat = new FlatIndex(dims, 16);
    flat.add(data.ids, data.data);
    const flatBytes = flat.stats().memoryBytes;
    const bytes = idx.stats().memoryBytes;
    const empty = new IvfPqIndex(dims, { nlist: 16 }, source);
    empty.train(data.data, 700); // the fixed part does not depend on the sample size
    const fixed = empty.stats().memoryBytes; // centroids, codebooks, lookup table
    const perVector = (bytes - fixed) / data.count;
    t.diagnostic(`ivfpq ${bytes} B (${fixed} fixed + ${perVector.toFixed(1)} B/vector) vs flat ${flatBytes} B (${(flatBytes / data.count).toFixed(1)} B/vector)`);
    assert.ok(perVector >= 48 + 8, 'a code and an id per vector at least');
    assert.ok(perVector <= (flatBytes / data.count) / 8, `${perVector} B/vector`);
    // With 3000 vectors the fixed part still weighs; totals pass 1/8 from about 4k vectors at 384 dims.
    const projected = fixed + perVector * 20_000;
    assert.ok(projected <= (flatBytes / data.count) * 20_000 / 8);
  });

  test('4-bit codes work end to end', () => {
    const small = new IvfPqIndex(dims, { nlist: 8, pqBits: 4 }, source);
    small.train(data.data, 1000);
    small.add(data.ids, data.data);
    assert.ok(recall(small, { nprobe: 8 }) >= 0.9);
  });

  test('constructor and training errors', () => {
    assert.throws(() => new IvfPqIndex(dims, { pqM: 50 }), (e) => invalid(e) && /divides dims = 384/.test((e as Error).message));
    assert.throws(() => new IvfPqIndex(dims, { pqBits: 9 }), invalid);
    const few = new IvfPqIndex(dims, { nlist: 2 });
    assert.throws(() => few.train(data.data.subarray(0, 200 * dims), 200), (e) => invalid(e) && /at least 256 vectors/.test((e as Error).message));
    assert.equal(few.needsTraining, true);
    assert.throws(() => few.add([1], row(data.data, dims, 0)), (e) => invalid(e) && /not trained/.test((e as Error).message));
  });

  test('registered: createIndex and loadIndex carry the source', async () => {
    const made = createIndex('ivfpq', dims, { nlist: 4, pqM: 24, refine: 50, source });
    assert.ok(made instanceof IvfPqIndex);
    assert.deepEqual([made.stats().params.pqM, made.stats().params.refine, made.stats().params.source], [24, 50, true]);
    assert.throws(() => createIndex('ivfpq', dims, { pqm: 24 }), (e) => invalid(e) && /unknown ivfpq index param "pqm"/.test((e as Error).message));
    const path = join(dir, 'registered.qidx');
    await idx.save(path);
    const back = await loadIndex(path, { source } as never);
    assert.ok(back instanceof IvfPqIndex);
    assert.deepEqual(back.stats().params, idx.stats().params);
    const q = row(data.queries, dims, 3);
    assert.deepEqual(back.search(q, 10), idx.search(q, 10));
    const noSource = await IvfPqIndex.load(path);
    assert.equal(noSource.stats().params.source, false);
    assert.deepEqual(noSource.search(q, 10, { refine: 0 }), idx.search(q, 10, { refine: 0 }));
  });
});
