import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputError } from '../src/errors.js';
import { ProductQuantizer } from '../src/index/pq.js';
import { clusteredVectors, row } from './support/vectors.js';

const dims = 32;
const data = clusteredVectors({ count: 2000, dims, clusters: 16, spread: 1.5, queries: 40, seed: 21 });

/** Mean squared reconstruction error over the data set. */
function reconstructionError(pq: ProductQuantizer): number {
  const code = new Uint8Array(pq.m);
  const out = new Float32Array(dims);
  let err = 0;
  for (let i = 0; i < data.count; i++) {
    pq.encode(data.data, i * dims, code, 0);
    pq.decode(code, 0, out, 0);
    for (let t = 0; t < dims; t++) err += (out[t] - data.data[i * dims + t]) ** 2;
  }
  return err / data.count;
}

function trained(m: number, nbits: number): ProductQuantizer {
  const pq = new ProductQuantizer(dims, m, nbits);
  pq.train(data.data, data.count, { maxIter: 8 });
  return pq;
}

describe('product quantizer', () => {
  test('reconstruction error shrinks with more bits', (t) => {
    const errs = [4, 6, 8].map((b) => reconstructionError(trained(8, b)));
    t.diagnostic(`MSE by nbits 4/6/8: ${errs.map((e) => e.toFixed(4)).join(' / ')}`);
    assert.ok(errs[0] > errs[1] && errs[1] > errs[2], `${errs}`);
    assert.ok(errs[2] < errs[0] * 0.7);
  });

  test('reconstruction error shrinks with more sub-quantizers', (t) => {
    const errs = [2, 4, 8, 16].map((m) => reconstructionError(trained(m, 6)));
    t.diagnostic(`MSE by m 2/4/8/16: ${errs.map((e) => e.toFixed(4)).join(' / ')}`);
    for (let i = 1; i < errs.length; i++) assert.ok(errs[i] < errs[i - 1], `m step ${i}: ${errs}`);
  });

  test('ADC: table sums are the inner product with the decoded vector, and track the exact one', () => {
    const pq = trained(8, 8);
    const table = new Float32Array(pq.m * pq.ksub);
    const code = new Uint8Array(pq.m);
    const decoded = new Float32Array(dims);
    let absErr = 0;
    let spread = 0;
    let n = 0;
    for (let q = 0; q < data.queryCount; q++) {
      const query = row(data.queries, dims, q);
      pq.innerProductTable(query, 0, table);
      for (let i = 0; i < data.count; i += 10) {
        pq.encode(data.data, i * dims, code, 0);
        pq.decode(code, 0, decoded, 0);
        let viaDecode = 0;
        let exact = 0;
        for (let t = 0; t < dims; t++) {
          viaDecode += query[t] * decoded[t];
          exact += query[t] * data.data[i * dims + t];
        }
        const adc = pq.adc(table, code, 0);
        assert.ok(Math.abs(adc - viaDecode) < 1e-5, `ADC ${adc} vs <q, decode> ${viaDecode}`);
        absErr += Math.abs(adc - exact);
        spread += Math.abs(exact);
        n++;
      }
    }
    // Errors well below the scores themselves: ADC ranks like the exact inner product.
    assert.ok(absErr / n < 0.25 * (spread / n), `mean |ADC - exact| ${absErr / n} vs mean |exact| ${spread / n}`);
  });

  test('encodeBatch equals encode row by row', () => {
    for (const m of [8, 16]) {
      const pq = trained(m, 8);
      const n = 300;
      const batch = new Uint8Array(n * m);
      pq.encodeBatch(data.data, n, batch);
      const one = new Uint8Array(m);
      let differ = 0;
      for (let i = 0; i < n; i++) {
        pq.encode(data.data, i * dims, one, 0);
        for (let j = 0; j < m; j++) if (one[j] !== batch[i * m + j]) differ++;
      }
      // The batch runs float32 SIMD, encode() float64 JS: only exact near-ties may differ.
      assert.ok(differ <= 2, `m ${m}: ${differ} codes differ`);
    }
  });

  test('bad shapes and too little training data are refused', () => {
    assert.throws(() => new ProductQuantizer(32, 5, 8), (e) => e instanceof InvalidInputError && /divides dims = 32/.test(e.message));
    assert.throws(() => new ProductQuantizer(32, 8, 3), InvalidInputError);
    assert.throws(() => new ProductQuantizer(32, 8, 9), InvalidInputError);
    const pq = new ProductQuantizer(dims, 8, 8);
    assert.throws(() => pq.train(data.data, 255), (e) => e instanceof InvalidInputError && /at least 256/.test(e.message));
    assert.equal(pq.trained, false);
    assert.equal(pq.codeSize, 8);
  });
});
