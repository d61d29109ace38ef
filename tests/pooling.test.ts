import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosine, l2NormalizeInPlace, poolInto } from '../src/embed/pooling.js';

test('mean pooling averages only the unmasked tokens of its row', () => {
  // batch 2, seq 3, dims 2; row 1 has 2 real tokens and one padding token full of junk.
  const hidden = new Float32Array([1, 1, 2, 2, 3, 3, 10, 20, 30, 40, 999, 999]);
  const out = new Float32Array(2);
  poolInto(hidden, 3, 2, 1, 2, 'mean', out);
  assert.deepEqual(Array.from(out), [20, 30]);
  poolInto(hidden, 3, 2, 0, 3, 'mean', out);
  assert.deepEqual(Array.from(out), [2, 2]);
});

test('cls pooling takes the first token of the row', () => {
  const hidden = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const out = new Float32Array(2);
  poolInto(hidden, 2, 2, 1, 2, 'cls', out);
  assert.deepEqual(Array.from(out), [5, 6]);
});

test('L2 normalization gives unit length and leaves a zero vector alone', () => {
  const v = l2NormalizeInPlace(new Float32Array([3, 4]));
  assert.ok(Math.abs(v[0] - 0.6) < 1e-7 && Math.abs(v[1] - 0.8) < 1e-7);
  const z = l2NormalizeInPlace(new Float32Array([0, 0]));
  assert.deepEqual(Array.from(z), [0, 0]);
  assert.equal(cosine([1, 0], [0, 1]), 0);
  assert.ok(Math.abs(cosine([1, 1], [2, 2]) - 1) < 1e-12);
});
