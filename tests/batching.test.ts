import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateBatchBytes, planBatches } from '../src/embed/batching.js';

const opts = { memoryBudgetBytes: 64 * 1024 * 1024, maxBatchSize: 32, hiddenSize: 384, numHeads: 12 };

test('every item lands in exactly one batch', () => {
  const lengths = Array.from({ length: 500 }, (_, i) => 3 + ((i * 37) % 250));
  const batches = planBatches(lengths, opts);
  const seen = batches.flat().sort((a, b) => a - b);
  assert.deepEqual(seen, lengths.map((_, i) => i));
});

test('batches respect the memory budget and the size cap, and group similar lengths', () => {
  const lengths = Array.from({ length: 300 }, (_, i) => (i % 2 ? 256 : 12));
  const batches = planBatches(lengths, opts);
  for (const b of batches) {
    const width = Math.max(...b.map((i) => lengths[i]));
    assert.ok(b.length <= opts.maxBatchSize);
    assert.ok(b.length === 1 || estimateBatchBytes(b.length, width, 384, 12) <= opts.memoryBudgetBytes);
    // sorted by length: a batch never mixes the long and the short inputs here
    assert.equal(new Set(b.map((i) => lengths[i])).size, 1);
  }
  // long inputs get smaller batches than short ones under the same budget
  const longBatch = batches.find((b) => lengths[b[0]] === 256)!;
  const shortBatch = batches.find((b) => lengths[b[0]] === 12)!;
  assert.ok(longBatch.length < shortBatch.length);
});

test('a single item larger than the budget still gets a batch of its own', () => {
  const batches = planBatches([100000], { ...opts, memoryBudgetBytes: 1 });
  assert.deepEqual(batches, [[0]]);
});
