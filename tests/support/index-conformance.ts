/**
 * One conformance suite for every VectorIndex (the way Hono runs all its routers through one
 * suite): exactness or a recall floor against brute force, ids through save/load, removal,
 * edge cases, training rules and input checks. Each index's test file calls runConformance.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QuarryError } from '../../src/errors.js';
import type { SearchParams, VectorHit, VectorIndex } from '../../src/index/vector-index.js';
import { bruteForce, clusteredVectors, recallAt, row, type Clustered } from './vectors.js';

export interface ConformanceOptions {
  /** Exact indexes must equal brute force; approximate ones must reach recallFloor. */
  exact: boolean;
  /** Mean recall@10 over the queries, approximate indexes only (default 0.9). */
  recallFloor?: number;
  /** Passed to every search of the full data set. */
  searchParams?: SearchParams;
  /** For searches of tiny indexes (one vector, duplicates, k > size); default searchParams. IVF: probe every list. */
  smallParams?: SearchParams;
  load: (path: string) => Promise<VectorIndex>;
  /** Rows given to train() when the index needs training (default: all). */
  trainSize?: number;
  /**
   * Bound on |hit.score - true inner product|: default 1e-5 when exact, unchecked otherwise
   * (self-matches, whose true score is 1, are then held to 0.1).
   */
  scoreTolerance?: number;
  /** Data shape (default 3000 vectors x 128 dims, 24 clusters). */
  count?: number;
  dims?: number;
}

type Make = (dims: number) => VectorIndex | Promise<VectorIndex>;

export function runConformance(name: string, make: Make, opts: ConformanceOptions): void {
  const dims = opts.dims ?? 128;
  const count = opts.count ?? 3000;
  const k = 10;
  const tol = opts.scoreTolerance ?? (opts.exact ? 1e-5 : undefined);
  const params = opts.searchParams;
  const small = opts.smallParams ?? params;
  let data: Clustered;
  let dir: string;

  describe(`${name}: VectorIndex conformance`, () => {
    before(async () => {
      data = clusteredVectors({ count, dims, seed: 7 });
      dir = await mkdtemp(join(tmpdir(), 'quarry-conformance-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    /** A new index, trained on the data set when it needs training. */
    const fresh = async (): Promise<VectorIndex> => {
      const idx = await make(dims);
      if (idx.needsTraining) {
        const n = Math.min(opts.trainSize ?? count, count);
        idx.train(data.data.subarray(0, n * dims), n);
      }
      return idx;
    };
    const full = async (): Promise<VectorIndex> => {
      const idx = await fresh();
      idx.add(data.ids, data.data);
      return idx;
    };
    const query = (i: number): Float32Array => row(data.queries, dims, i);
    const truthFor = (q: Float32Array, live?: (id: number) => boolean): VectorHit[] => bruteForce(data.data, data.ids, dims, q, live);

    /** Exact: same hits as brute force, up to near-equal scores trading places. */
    const assertExact = (hits: VectorHit[], truth: VectorHit[], kk: number, what: string): void => {
      assert.equal(hits.length, Math.min(kk, truth.length), `${what}: hit count`);
      const scoreOf = new Map(truth.map((h) => [h.id, h.score]));
      hits.forEach((h, i) => {
        assert.ok(Math.abs(h.score - truth[i].score) <= 1e-5, `${what}: rank ${i} score ${h.score}, brute force ${truth[i].score}`);
        if (h.id !== truth[i].id) {
          const s = scoreOf.get(h.id);
          assert.ok(s !== undefined && Math.abs(s - truth[i].score) <= 1e-5, `${what}: rank ${i} is id ${h.id}, brute force has ${truth[i].id}`);
        }
      });
    };
    /** Sorted by score, ties by smaller id; distinct; scores true inner products within tol. */
    const assertWellFormed = (hits: VectorHit[], q: Float32Array, what: string, live?: (id: number) => boolean): void => {
      const truth = tol === undefined ? undefined : new Map(truthFor(q, live).map((h) => [h.id, h.score]));
      const seen = new Set<number>();
      hits.forEach((h, i) => {
        assert.ok(!seen.has(h.id), `${what}: id ${h.id} twice`);
        seen.add(h.id);
        if (i > 0) {
          const p = hits[i - 1];
          assert.ok(p.score > h.score || (p.score === h.score && p.id < h.id), `${what}: rank ${i} out of order`);
        }
        if (truth) {
          const s = truth.get(h.id);
          assert.ok(s !== undefined, `${what}: id ${h.id} is not a live vector`);
          assert.ok(Math.abs(h.score - s) <= tol!, `${what}: id ${h.id} score ${h.score}, true ${s}`);
        }
      });
    };

    test('a new index is empty and describes itself', async () => {
      const idx = await make(dims);
      assert.equal(idx.dims, dims);
      assert.equal(idx.size, 0);
      assert.equal(typeof idx.needsTraining, 'boolean');
      const s = idx.stats();
      assert.equal(s.type, idx.type);
      assert.equal(s.dims, dims);
      assert.equal(s.size, 0);
      assert.equal(s.trained, !idx.needsTraining);
    });

    test('training: required only where needed, with a clear error', async () => {
      const idx = await make(dims);
      const sample = data.data.subarray(0, Math.min(opts.trainSize ?? count, count) * dims);
      if (idx.needsTraining) {
        assert.throws(() => idx.add([1], row(data.data, dims, 0)), (e) => e instanceof QuarryError && /train/i.test(e.message));
        assert.throws(() => idx.train(sample.subarray(0, dims), 1), (e) => e instanceof QuarryError);
        assert.equal(idx.needsTraining, true, 'a failed training leaves the index untrained');
      }
      idx.train(sample, sample.length / dims);
      assert.equal(idx.needsTraining, false);
      assert.equal(idx.stats().trained, true);
      idx.add([1], row(data.data, dims, 0));
      assert.equal(idx.size, 1);
    });

    test('an empty index returns no hits', async () => {
      const idx = await fresh();
      assert.deepEqual(idx.search(query(0), k, params), []);
      assert.equal(idx.has(1000), false);
      assert.equal(idx.remove([1000]), 0);
    });

    if (opts.exact) {
      test('results equal brute force (ids and scores)', async () => {
        const idx = await full();
        assert.equal(idx.size, count);
        for (let i = 0; i < data.queryCount; i++) {
          const q = query(i);
          const truth = truthFor(q);
          assertExact(idx.search(q, k, params), truth, k, `query ${i}`);
          if (i < 5) {
            assertExact(idx.search(q, 1, params), truth, 1, `query ${i}, k=1`);
            assertExact(idx.search(q, 200, params), truth, 200, `query ${i}, k=200`);
          }
        }
      });
    } else {
      test(`recall@${k} against brute force >= ${opts.recallFloor ?? 0.9}`, async (t) => {
        const idx = await full();
        assert.equal(idx.size, count);
        let sum = 0;
        for (let i = 0; i < data.queryCount; i++) {
          const q = query(i);
          const hits = idx.search(q, k, params);
          assert.equal(hits.length, k);
          assertWellFormed(hits, q, `query ${i}`);
          sum += recallAt(k, truthFor(q), hits);
        }
        const recall = sum / data.queryCount;
        t.diagnostic(`${name}: recall@${k} = ${recall.toFixed(4)} over ${data.queryCount} queries, ${count} x ${dims}`);
        assert.ok(recall >= (opts.recallFloor ?? 0.9), `recall@${k} ${recall.toFixed(4)} < floor ${opts.recallFloor ?? 0.9}`);
      });
    }

    test('hits are sorted by score then id, distinct, with true scores', async () => {
      const idx = await full();
      for (let i = 0; i < data.queryCount; i += 5) assertWellFormed(idx.search(query(i), 50, params), query(i), `query ${i}`);
    });

    test('a single vector is found', async () => {
      const idx = await fresh();
      const v = row(data.data, dims, 3);
      idx.add([7], v);
      assert.equal(idx.size, 1);
      assert.equal(idx.has(7), true);
      const hits = idx.search(v, 5, small);
      assert.equal(hits.length, 1);
      assert.equal(hits[0].id, 7);
      assert.ok(Math.abs(hits[0].score - 1) <= (tol ?? 0.1), `self score ${hits[0].score}`);
    });

    test('duplicate vectors: all returned, ties ordered by id', async () => {
      const idx = await fresh();
      const base = 200;
      idx.add(data.ids.subarray(0, base), data.data.subarray(0, base * dims));
      const v = row(data.data, dims, base + 1);
      idx.add([5, 3, 9], new Float32Array([...v, ...v, ...v]));
      const three = idx.search(v, 3, small);
      assert.deepEqual(three.map((h) => h.id), [3, 5, 9]);
      assert.equal(three[0].score, three[1].score);
      assert.equal(three[1].score, three[2].score);
      assert.deepEqual(idx.search(v, 2, small).map((h) => h.id), [3, 5]);
      assert.deepEqual(idx.search(v, 1, small).map((h) => h.id), [3]);
    });

    test('k larger than the index returns every vector, sorted', async () => {
      const idx = await fresh();
      const ids = [11, 2, 40, 7, 5, 30, 8];
      idx.add(ids, data.data.subarray(0, ids.length * dims));
      const q = query(1);
      const hits = idx.search(q, 100, small);
      assert.deepEqual(hits.map((h) => h.id).sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
      const truth = bruteForce(data.data.subarray(0, ids.length * dims), ids, dims, q);
      if (opts.exact) assertExact(hits, truth, 100, 'k > size');
      hits.forEach((h, i) => i > 0 && assert.ok(hits[i - 1].score >= h.score));
      assert.deepEqual(idx.search(q, 0, small), []);
    });

    test('re-adding an id replaces its vector', async () => {
      const idx = await full();
      const id = data.ids[10];
      const old = row(data.data, dims, 10);
      const fresher = query(0);
      idx.add([id], fresher);
      assert.equal(idx.size, count);
      const top = idx.search(fresher, 1, params)[0];
      assert.equal(top.id, id);
      assert.ok(Math.abs(top.score - 1) <= (tol ?? 0.1));
      let cross = 0;
      for (let j = 0; j < dims; j++) cross += old[j] * fresher[j];
      for (const h of idx.search(old, 50, params)) {
        if (h.id === id) assert.ok(Math.abs(h.score - cross) <= (tol ?? 0.1), 'the old vector is gone');
      }
      // The same id twice in one batch: the last one wins.
      const other = query(1);
      idx.add([id, id], new Float32Array([...old, ...other]));
      assert.equal(idx.size, count);
      assert.equal(idx.search(other, 1, params)[0].id, id);
    });

    test('removed ids never come back (search, has, more adds, save/load)', async () => {
      const idx = await full();
      const removed = new Set<number>();
      for (let i = 0; i < 20; i++) for (const h of idx.search(query(i), 3, params)) removed.add(h.id);
      for (let i = 0; i < count; i += 7) removed.add(data.ids[i]);
      const list = [...removed];
      assert.equal(idx.remove(list), list.length);
      assert.equal(idx.remove(list), 0, 'a second removal removes nothing');
      assert.equal(idx.remove([123456789, 0]), 0, 'unknown ids are ignored');
      assert.equal(idx.size, count - list.length);
      const live = (id: number): boolean => !removed.has(id);
      const check = (ix: VectorIndex, what: string): void => {
        for (const id of list) assert.equal(ix.has(id), false, `${what}: has(${id})`);
        for (let i = 0; i < data.queryCount; i++) {
          const q = query(i);
          const hits = ix.search(q, 50, params);
          for (const h of hits) assert.ok(live(h.id), `${what}: removed id ${h.id} returned for query ${i}`);
          if (opts.exact) assertExact(hits, truthFor(q, live), 50, `${what}: query ${i}`);
        }
      };
      check(idx, 'after remove');
      // New ids reuse freed space in some indexes: the old ids must stay gone.
      const extra = 100;
      const newIds = Array.from({ length: extra }, (_, i) => 900_000 + i);
      idx.add(newIds, data.data.subarray(dims, (extra + 1) * dims));
      assert.equal(idx.size, count - list.length + extra);
      for (const id of newIds) assert.equal(idx.has(id), true);
      for (let i = 0; i < data.queryCount; i++) for (const h of idx.search(query(i), 50, params)) assert.ok(live(h.id), `after adds: removed id ${h.id} returned`);
      const path = join(dir, `${name.replace(/\W+/g, '-')}-removed.qidx`);
      await idx.save(path);
      const back = await opts.load(path);
      assert.equal(back.size, idx.size);
      for (const id of list) assert.equal(back.has(id), false, `after load: has(${id})`);
      for (let i = 0; i < data.queryCount; i++) for (const h of back.search(query(i), 50, params)) assert.ok(live(h.id), `after load: removed id ${h.id} returned`);
    });

    test('save and load keep ids and results', async () => {
      const idx = await full();
      const path = join(dir, `${name.replace(/\W+/g, '-')}-roundtrip.qidx`);
      await idx.save(path);
      const back = await opts.load(path);
      assert.equal(back.type, idx.type);
      assert.equal(back.dims, dims);
      assert.equal(back.size, count);
      assert.equal(back.needsTraining, false);
      for (let i = 0; i < count; i += 97) assert.equal(back.has(data.ids[i]), true);
      for (let i = 0; i < data.queryCount; i++) {
        const a = idx.search(query(i), k, params);
        const b = back.search(query(i), k, params);
        assert.deepEqual(b.map((h) => h.id), a.map((h) => h.id), `query ${i}: ids differ after load`);
        b.forEach((h, j) => assert.ok(Math.abs(h.score - a[j].score) <= 1e-6, `query ${i}: score differs after load`));
      }
      // A loaded index is a working index.
      back.add([777_777], query(2));
      assert.equal(back.search(query(2), 1, params)[0].id, 777_777);
      assert.equal(back.remove([777_777]), 1);
    });

    test('a damaged or missing file fails loudly', async () => {
      const idx = await fresh();
      idx.add(data.ids.subarray(0, 300), data.data.subarray(0, 300 * dims));
      const path = join(dir, `${name.replace(/\W+/g, '-')}-damaged.qidx`);
      await idx.save(path);
      const good = await readFile(path);
      const flipped = Buffer.from(good);
      flipped[flipped.length - 9] ^= 0xff;
      const wrongMagic = Buffer.from(good);
      wrongMagic[0] = 0x58;
      const variants: Record<string, Buffer> = {
        'truncated to half': good.subarray(0, good.length >> 1),
        'truncated by one byte': good.subarray(0, good.length - 1),
        'header only': good.subarray(0, 20),
        empty: Buffer.alloc(0),
        'wrong magic': wrongMagic,
        'a flipped payload byte': flipped,
        'trailing bytes': Buffer.concat([good, Buffer.from('junk')]),
      };
      for (const [what, bytes] of Object.entries(variants)) {
        const p = join(dir, `damaged-${what.replace(/\W+/g, '-')}.qidx`);
        await writeFile(p, bytes);
        await assert.rejects(opts.load(p), (e) => e instanceof QuarryError && e.category === 'integrity', `${what} must be refused`);
      }
      await assert.rejects(opts.load(join(dir, 'missing.qidx')), (e) => e instanceof QuarryError && e.category === 'not-found');
      assert.equal((await opts.load(path)).size, 300, 'the intact file still loads');
    });

    test('bad input is refused with InvalidInputError', async () => {
      const idx = await fresh();
      const v = row(data.data, dims, 0);
      const invalid = (e: unknown): boolean => e instanceof QuarryError && e.category === 'invalid-input';
      assert.throws(() => idx.add([1, 2], v), invalid, 'vector count mismatch');
      assert.throws(() => idx.add([-1], v), invalid, 'negative id');
      assert.throws(() => idx.add([1.5], v), invalid, 'fractional id');
      const nan = v.slice();
      nan[3] = NaN;
      assert.throws(() => idx.add([1], nan), invalid, 'NaN');
      assert.equal(idx.size, 0, 'a refused batch adds nothing');
      idx.add([1], v);
      assert.throws(() => idx.search(v.subarray(1), k, params), invalid, 'wrong dims');
      assert.throws(() => idx.search(v, -1, params), invalid, 'negative k');
      assert.throws(() => idx.search(nan, k, params), invalid, 'NaN query');
      assert.ok(idx.stats().memoryBytes > 0);
    });
  });
}
