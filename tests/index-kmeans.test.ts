import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { InvalidInputError } from '../src/errors.js';
import { dot, dot1, dot4, setSimdEnabled, simdAvailable, TopK } from '../src/index/dot.js';
import { assignBatch, CentroidMatcher, kmeans } from '../src/index/kmeans.js';
import { clusteredVectors, prng } from './support/vectors.js';

/** For each true cluster, the set of k-means labels its points got. */
function labelsPerCluster(centres: Float32Array, data: Float32Array, n: number, dims: number, found: Float32Array, k: number): Map<number, Set<number>> {
  const truth = new Int32Array(n);
  assignBatch(data, 0, n, dims, centres, centres.length / dims, null, truth);
  const got = new Int32Array(n);
  assignBatch(data, 0, n, dims, found, k, null, got);
  const map = new Map<number, Set<number>>();
  for (let i = 0; i < n; i++) {
    if (!map.has(truth[i])) map.set(truth[i], new Set());
    map.get(truth[i])!.add(got[i]);
  }
  return map;
}

/** Tight, well-separated clusters around random unit centres. */
function separated(k: number, perCluster: number, dims: number, seed: number): { centres: Float32Array; data: Float32Array; n: number } {
  const rnd = prng(seed);
  const centres = new Float32Array(k * dims);
  for (let i = 0; i < centres.length; i++) centres[i] = rnd() - 0.5;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let t = 0; t < dims; t++) s += centres[c * dims + t] ** 2;
    for (let t = 0; t < dims; t++) centres[c * dims + t] /= Math.sqrt(s);
  }
  const n = k * perCluster;
  const data = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    let s = 0;
    for (let t = 0; t < dims; t++) {
      const v = centres[c * dims + t] + 0.03 * (rnd() - 0.5);
      data[i * dims + t] = v;
      s += v * v;
    }
    for (let t = 0; t < dims; t++) data[i * dims + t] /= Math.sqrt(s);
  }
  return { centres, data, n };
}

afterEach(() => setSimdEnabled(true));

describe('kmeans', () => {
  test('separates well-separated clusters (spherical, ip)', () => {
    const dims = 32;
    const k = 8;
    const { centres, data, n } = separated(k, 100, dims, 3);
    const res = kmeans(data, n, dims, k, { metric: 'ip' });
    for (const [cluster, labels] of labelsPerCluster(centres, data, n, dims, res.centroids, k)) {
      assert.equal(labels.size, 1, `true cluster ${cluster} was split over ${[...labels]}`);
    }
    const used = new Set([...labelsPerCluster(centres, data, n, dims, res.centroids, k).values()].map((s) => [...s][0]));
    assert.equal(used.size, k, 'each cluster has its own centroid');
    for (let c = 0; c < k; c++) assert.ok(Math.abs(dot(res.centroids, c * dims, res.centroids, c * dims, dims) - 1) < 1e-5, 'unit centroids');
    assert.ok(res.iterations < 20, `early stop, ran ${res.iterations} iterations`);
  });

  test('l2 metric: finds the means of offset Gaussian blobs', () => {
    const dims = 4;
    const rnd = prng(9);
    const means = [
      [10, 0, 0, 0],
      [0, 10, 0, 0],
      [0, 0, -10, 5],
    ];
    const n = 600;
    const data = new Float32Array(n * dims);
    for (let i = 0; i < n; i++) for (let t = 0; t < dims; t++) data[i * dims + t] = means[i % 3][t] + (rnd() - 0.5);
    const res = kmeans(data, n, dims, 3, { metric: 'l2' });
    for (const m of means) {
      let best = Infinity;
      for (let c = 0; c < 3; c++) {
        let d = 0;
        for (let t = 0; t < dims; t++) d += (res.centroids[c * dims + t] - m[t]) ** 2;
        best = Math.min(best, d);
      }
      assert.ok(best < 0.01, `no centroid near ${m} (squared distance ${best})`);
    }
  });

  test('deterministic for a seed; another seed may differ but clusters as well', () => {
    const c = clusteredVectors({ count: 1500, dims: 24, clusters: 12, seed: 5 });
    const a = kmeans(c.data, c.count, 24, 12, { metric: 'ip', seed: 42 });
    const b = kmeans(c.data, c.count, 24, 12, { metric: 'ip', seed: 42 });
    assert.deepEqual(a.centroids, b.centroids);
    assert.equal(a.objective, b.objective);
    const other = kmeans(c.data, c.count, 24, 12, { metric: 'ip', seed: 43 });
    assert.ok(Math.abs(other.objective - a.objective) / a.objective < 0.2);
  });

  test('samples at most maxPointsPerCentroid x k points', () => {
    const c = clusteredVectors({ count: 2000, dims: 16, seed: 2 });
    const res = kmeans(c.data, c.count, 16, 10, { metric: 'ip', maxPointsPerCentroid: 20 });
    assert.equal(res.sampleSize, 200);
    assert.equal(kmeans(c.data, c.count, 16, 10, { metric: 'ip' }).sampleSize, 2000);
  });

  test('repairs empty clusters when points coincide', () => {
    const dims = 8;
    const n = 90;
    const data = new Float32Array(n * dims);
    // Three distinct points, 30 copies each, into 6 clusters.
    for (let i = 0; i < n; i++) data[i * dims + (i % 3)] = 1;
    const res = kmeans(data, n, dims, 6, { metric: 'ip' });
    assert.ok(res.emptyRepairs > 0, 'some cluster started empty');
    assert.ok(res.centroids.every((v) => Number.isFinite(v)));
    const assign = new Int32Array(n);
    assignBatch(data, 0, n, dims, res.centroids, 6, null, assign);
    for (let i = 3; i < n; i++) assert.equal(assign[i], assign[i % 3], 'copies share a cluster');
  });

  test('refuses fewer points than clusters, and bad k', () => {
    const data = new Float32Array(5 * 4);
    assert.throws(() => kmeans(data, 5, 4, 6, { metric: 'ip' }), (e) => e instanceof InvalidInputError && /at least k = 6/.test(e.message));
    assert.throws(() => kmeans(data, 5, 4, 0, { metric: 'ip' }), InvalidInputError);
    assert.throws(() => kmeans(data, 6, 4, 2, { metric: 'ip' }), InvalidInputError, 'fewer floats than count x dims');
  });
});

describe('kernels', () => {
  test('the SIMD kernels agree with the JS loops (row and transposed layouts)', () => {
    assert.equal(simdAvailable(), true, 'Node 20 has WebAssembly SIMD');
    const rnd = prng(17);
    for (const [dims, k] of [
      [384, 141],
      [64, 9],
      [8, 256],
      [4, 16],
      [6, 64],
      [3, 5],
    ]) {
      const n = 300;
      const x = Float32Array.from({ length: n * dims }, () => rnd() - 0.5);
      const c = Float32Array.from({ length: k * dims }, () => rnd() - 0.5);
      const half = Float64Array.from({ length: k }, () => rnd() * 0.05);
      const run = (simd: boolean): { a: number[]; s: number[]; d: Float64Array } => {
        setSimdEnabled(simd);
        const m = new CentroidMatcher(dims, k, n, true);
        m.setCentroids(c, half);
        m.loadRows(x, 0, n);
        const a: number[] = [];
        const s: number[] = [];
        for (let i = 0; i < n; i++) {
          a.push(m.nearest(i));
          s.push(m.score);
        }
        const d = new Float64Array(n);
        m.rowDots(5, n, d);
        return { a, s, d };
      };
      const simd = run(true);
      const js = run(false);
      let differ = 0;
      for (let i = 0; i < n; i++) {
        // float32 vs float64 sums: a near-tie may go either way, never by more than rounding.
        if (simd.a[i] !== js.a[i]) differ++;
        assert.ok(Math.abs(simd.s[i] - js.s[i]) < 1e-4, `dims ${dims}: score ${simd.s[i]} vs ${js.s[i]}`);
        assert.ok(Math.abs(simd.d[i] - js.d[i]) < 1e-4, `dims ${dims}: row dot`);
      }
      assert.ok(differ <= 1, `dims ${dims}, k ${k}: ${differ} assignments differ`);
    }
  });

  test('dot, dot1 and dot4 agree; dot1 matches dot4 bit for bit', () => {
    const rnd = prng(4);
    for (const n of [1, 2, 3, 7, 8, 9, 31, 384]) {
      const a = Float32Array.from({ length: n + 3 }, () => rnd() - 0.5);
      const rows = Float32Array.from({ length: 4 * n + 5 }, () => rnd() - 0.5);
      const out = new Float64Array(4);
      dot4(a, 3, rows, 5, n, out, 0);
      for (let r = 0; r < 4; r++) {
        assert.equal(dot1(a, 3, rows, 5 + r * n, n), out[r]);
        let s = 0;
        for (let t = 0; t < n; t++) s += a[3 + t] * rows[5 + r * n + t];
        assert.ok(Math.abs(dot(a, 3, rows, 5 + r * n, n) - s) < 1e-12);
      }
    }
  });

  test('TopK keeps the best k, ties by smaller id, best first', () => {
    const rnd = prng(8);
    const heap = new TopK(2);
    for (const k of [1, 5, 50]) {
      const items = Array.from({ length: 400 }, (_, i) => ({ score: Math.round(rnd() * 20) / 20, id: (i * 7919) % 1000 }));
      heap.reset(k);
      for (const it of items) heap.push(it.score, it.id);
      const want = [...items].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
      assert.deepEqual(heap.drainHits(), want);
    }
    heap.reset(0);
    heap.push(1, 1);
    assert.deepEqual(heap.drainHits(), []);
  });
});
