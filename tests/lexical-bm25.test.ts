import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuarryError } from '../src/errors.js';
import { Bm25Index } from '../src/lexical/bm25-index.js';

/** Lucene BM25 by hand, for one term. */
function bm25(tf: number, dl: number, avgdl: number, n: number, df: number, k1 = 0.9, b = 0.4): number {
  const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
  return (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / avgdl));
}

function small(): Bm25Index {
  const idx = new Bm25Index();
  idx.add(1, ['apple', 'banana', 'apple']);
  idx.add(2, ['banana', 'cherry']);
  idx.add(3, ['cherry', 'cherry', 'cherry', 'date', 'elder']);
  return idx;
}

test('scores equal the hand-computed Lucene BM25 (k1 0.9, b 0.4)', () => {
  const idx = small();
  const avgdl = (3 + 2 + 5) / 3;
  const hits = idx.search(['cherry'], 10);
  assert.deepEqual(
    hits.map((h) => h.id),
    [3, 2],
  );
  assert.ok(Math.abs(hits[0].score - bm25(3, 5, avgdl, 3, 2)) < 1e-12);
  assert.ok(Math.abs(hits[1].score - bm25(1, 2, avgdl, 3, 2)) < 1e-12);
  // two query terms add; a repeated query term counts twice
  const two = idx.search(['apple', 'banana'], 10).find((h) => h.id === 1)!;
  assert.ok(Math.abs(two.score - (bm25(2, 3, avgdl, 3, 1) + bm25(1, 3, avgdl, 3, 2))) < 1e-12);
  const twice = idx.search(['apple', 'apple'], 1)[0];
  assert.ok(Math.abs(twice.score - 2 * bm25(2, 3, avgdl, 3, 1)) < 1e-12);
  // k1 and b apply per query
  const custom = idx.search(['cherry'], 1, { k1: 1.2, b: 0.75 })[0];
  assert.ok(Math.abs(custom.score - bm25(3, 5, avgdl, 3, 2, 1.2, 0.75)) < 1e-12);
});

test('unknown terms give nothing; ties are broken by id; k and allowed ids limit the hits', () => {
  const idx = new Bm25Index();
  idx.add(9, ['x']);
  idx.add(4, ['x']);
  idx.add(7, ['x']);
  assert.deepEqual(idx.search(['nothing'], 5), []);
  assert.deepEqual(
    idx.search(['x'], 5).map((h) => h.id),
    [4, 7, 9],
  );
  assert.deepEqual(
    idx.search(['x'], 2).map((h) => h.id),
    [4, 7],
  );
  assert.deepEqual(
    idx.search(['x'], 5, {}, new Set([9])).map((h) => h.id),
    [9],
  );
});

test('removed documents never come back and statistics follow (re-adding restores the scores)', () => {
  const idx = small();
  const before = idx.search(['cherry'], 10);
  idx.remove([3]);
  assert.equal(idx.size, 2);
  assert.deepEqual(
    idx.search(['cherry'], 10).map((h) => h.id),
    [2],
  );
  assert.equal(idx.df('cherry'), 1);
  assert.deepEqual(idx.search(['date'], 10), []);
  idx.add(3, ['cherry', 'cherry', 'cherry', 'date', 'elder']);
  assert.deepEqual(idx.search(['cherry'], 10), before);
  // replacing a document by id
  idx.add(2, ['fig']);
  assert.deepEqual(
    idx.search(['banana'], 10).map((h) => h.id),
    [1],
  );
});

test('serialize / deserialize round-trips the index exactly, and refuses a truncated payload', () => {
  const idx = small();
  idx.add(10, ['北京', 'ord-2024-00042']);
  idx.remove([2]);
  const { parts } = idx.serialize();
  const payload = Buffer.concat(parts);
  const back = Bm25Index.deserialize(payload);
  assert.equal(back.size, idx.size);
  for (const q of [['cherry'], ['apple', 'banana'], ['北京'], ['ord-2024-00042']]) assert.deepEqual(back.search(q, 10), idx.search(q, 10));
  assert.throws(() => Bm25Index.deserialize(payload.subarray(0, payload.length - 3)), /truncated|overruns/);
});

test('bad k1 / b are refused with an invalid-input error', () => {
  const idx = small();
  assert.throws(() => idx.search(['x'], 1, { k1: -1 }), (e) => isQuarryError(e) && e.category === 'invalid-input');
  assert.throws(() => idx.search(['x'], 1, { b: 2 }), (e) => isQuarryError(e) && e.category === 'invalid-input');
});
