import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuarryError } from '../src/errors.js';
import { convexFuse, DEFAULT_FUSION, fusionOf, parseWeights, rrfFuse } from '../src/retrieve/fusion.js';

const vector = { name: 'vector', hits: [1, 2, 3].map((id, i) => ({ id, score: 0.9 - i * 0.1 })) };
const bm25 = { name: 'bm25', hits: [3, 4, 1].map((id, i) => ({ id, score: 12 - i * 3 })) };

test('RRF: score = Σ w / (k + rank), rank from 1', () => {
  const fused = rrfFuse([vector, bm25], { k: 60 });
  const byId = new Map(fused.map((f) => [f.id, f.score]));
  assert.equal(byId.get(1), 1 / 61 + 1 / 63);
  assert.equal(byId.get(3), 1 / 63 + 1 / 61);
  assert.equal(byId.get(2), 1 / 62);
  assert.equal(byId.get(4), 1 / 62);
  assert.deepEqual(fused.find((f) => f.id === 1)!.from, { vector: { rank: 1, score: 0.9 }, bm25: { rank: 3, score: 6 } });
  // ties (1 and 3; 2 and 4) broken by id ascending
  assert.deepEqual(
    fused.map((f) => f.id),
    [1, 3, 2, 4],
  );
});

test('RRF weights scale each retriever; weight 0 removes its influence', () => {
  const fused = rrfFuse([vector, bm25], { k: 10, weights: { vector: 2, bm25: 0.5 } });
  const byId = new Map(fused.map((f) => [f.id, f.score]));
  assert.ok(Math.abs(byId.get(1)! - (2 / 11 + 0.5 / 13)) < 1e-15);
  assert.ok(Math.abs(byId.get(4)! - 0.5 / 12) < 1e-15);
  const onlyBm25 = rrfFuse([vector, bm25], { weights: { vector: 0 } });
  assert.deepEqual(
    onlyBm25.slice(0, 3).map((f) => f.id),
    [3, 4, 1],
  );
  assert.throws(() => rrfFuse([vector], { weights: { vector: -1 } }), (e) => isQuarryError(e) && e.category === 'invalid-input');
});

test('convex fusion: weighted sum of min-max normalized scores', () => {
  const fused = convexFuse([vector, bm25], { weights: { vector: 1, bm25: 1 } });
  const byId = new Map(fused.map((f) => [f.id, f.score]));
  // vector 0.9..0.7 -> 1, 0.5, 0; bm25 12..6 -> 1, 0.5, 0
  assert.ok(Math.abs(byId.get(1)! - (1 + 0)) < 1e-12);
  assert.ok(Math.abs(byId.get(3)! - (0 + 1)) < 1e-12);
  assert.ok(Math.abs(byId.get(2)! - 0.5) < 1e-12);
  assert.ok(Math.abs(byId.get(4)! - 0.5) < 1e-12);
  assert.deepEqual(
    fused.map((f) => f.id),
    [1, 3, 2, 4],
  );
  // one list of equal scores maps them all to 1
  const flat = convexFuse([{ name: 'bm25', hits: [{ id: 5, score: 2 }, { id: 6, score: 2 }] }]);
  assert.deepEqual(
    flat.map((f) => f.score),
    [1, 1],
  );
});

test('parseWeights reads name=value lists and refuses typos', () => {
  assert.deepEqual(parseWeights('vector=1, bm25=0.5'), { vector: 1, bm25: 0.5 });
  for (const bad of ['vectr=1', 'vector=x', 'vector', 'bm25=-2']) {
    assert.throws(() => parseWeights(bad), (e) => isQuarryError(e) && e.category === 'invalid-input', bad);
  }
});

test('fusionOf: convex by default, rrf when only an RRF k is given, k with convex refused', () => {
  assert.equal(fusionOf(undefined, undefined), DEFAULT_FUSION);
  assert.equal(DEFAULT_FUSION, 'convex');
  assert.equal(fusionOf(undefined, 60), 'rrf');
  assert.equal(fusionOf('rrf', undefined), 'rrf');
  assert.throws(() => fusionOf('convex', 10), (e: unknown) => isQuarryError(e) && /RRF fusion only/.test((e as Error).message));
  assert.throws(() => fusionOf('mean' as never, undefined), /fusion must be one of rrf, convex/);
});
