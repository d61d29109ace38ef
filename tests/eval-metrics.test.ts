import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMode } from '../src/api/evaluate.js';
import { isQuarryError } from '../src/errors.js';
import { loadBeirDataset } from '../src/eval/beir.js';
import { mrrAtK, ndcgAtK, percentile, precisionAtK, recallAtK } from '../src/eval/metrics.js';
import { tempDir } from './support/env.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('nDCG@k with graded relevance, by hand', () => {
  const rel = new Map([
    ['a', 3],
    ['b', 2],
    ['c', 1],
  ]);
  // ranked: x, a, c  -> DCG = 3/log2(3) + 1/log2(4); ideal a, b, c -> 3 + 2/log2(3) + 1/2
  close(ndcgAtK(['x', 'a', 'c'], rel, 3), (3 / Math.log2(3) + 1 / 2) / (3 + 2 / Math.log2(3) + 1 / 2));
  close(ndcgAtK(['a', 'b', 'c'], rel, 3), 1);
  // k cuts both the ranking and the ideal list
  close(ndcgAtK(['b', 'a'], rel, 1), 2 / 3);
  close(ndcgAtK(['x', 'y'], rel, 10), 0);
  // grade 0 counts as not relevant
  close(ndcgAtK(['z'], new Map([['z', 0]]), 10), 0);
});

test('Recall@k, MRR@k and P@k, by hand', () => {
  const rel = new Map([
    ['a', 1],
    ['b', 1],
    ['c', 1],
    ['d', 0],
  ]);
  const ranked = ['x', 'd', 'b', 'y', 'a'];
  close(recallAtK(ranked, rel, 5), 2 / 3);
  close(recallAtK(ranked, rel, 3), 1 / 3);
  close(mrrAtK(ranked, rel, 10), 1 / 3);
  close(mrrAtK(ranked, rel, 2), 0);
  close(precisionAtK(ranked, rel, 5), 2 / 5);
  close(precisionAtK(ranked, rel, 10), 2 / 10);
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
});

test('eval modes parse, bad ones are refused', () => {
  assert.deepEqual(parseMode('hybrid+rerank'), { mode: 'hybrid', rerank: true });
  assert.deepEqual(parseMode('bm25'), { mode: 'bm25', rerank: false });
  for (const bad of ['dense', 'hybrid+x', 'bm25+rerank+rerank']) assert.throws(() => parseMode(bad), (e) => isQuarryError(e) && e.category === 'invalid-input');
});

test('a BEIR folder loads its judged queries; a missing split names the ones there', async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir.path, 'qrels'));
    await writeFile(join(dir.path, 'corpus.jsonl'), '{"_id":"d1","title":"T","text":"x"}\n');
    await writeFile(join(dir.path, 'queries.jsonl'), '{"_id":"q1","text":"first"}\n{"_id":"q2","text":"second"}\n{"_id":"q3","text":"unjudged"}\n');
    await writeFile(join(dir.path, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq2\td1\t2\nq1\td1\t1\n');
    const ds = await loadBeirDataset(dir.path, 'test');
    assert.deepEqual(ds.queries, [
      { id: 'q2', text: 'second' },
      { id: 'q1', text: 'first' },
    ]);
    assert.equal(ds.qrels.get('q2')!.get('d1'), 2);
    await assert.rejects(loadBeirDataset(dir.path, 'dev'), /no qrels for split "dev".*splits there: test/);
    await assert.rejects(loadBeirDataset(join(dir.path, 'qrels')), /not a BEIR dataset folder/);
  } finally {
    await dir.cleanup();
  }
});
