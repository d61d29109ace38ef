import { LocalReader } from '../src/store/local/local-reader.js';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { indexPaths } from '../src/api/index-paths.js';
import { search, type SearchOptions } from '../src/api/search.js';
import { SearchSession } from '../src/retrieve/session.js';
import { Collection } from '../src/store/collection.js';
import {
  forgetCollectionGauges,
  METRICS_CONTENT_TYPE,
  metricsText,
  recordHttpRequest,
  setCollectionGauges,
  setEvalGauges,
} from '../src/observe/metrics.js';
import { modelsDir, tempDir } from './support/env.js';
import { closeEmbedders, sharedEmbedder } from './support/model.js';

const COLLECTION = 'observed';
let dir: { path: string; cleanup: () => Promise<void> };
let modelLabel: string;

/** Every metric of the contract (docs/observability.md, deploy/prometheus) with its type. */
const CONTRACT: Array<[string, 'histogram' | 'counter' | 'gauge']> = [
  ['quarry_search_duration_seconds', 'histogram'],
  ['quarry_search_stage_duration_seconds', 'histogram'],
  ['quarry_embed_duration_seconds', 'histogram'],
  ['quarry_search_top1_similarity', 'histogram'],
  ['quarry_search_results', 'histogram'],
  ['quarry_http_requests_total', 'counter'],
  ['quarry_http_request_duration_seconds', 'histogram'],
  ['quarry_documents', 'gauge'],
  ['quarry_chunks', 'gauge'],
  ['quarry_vectors', 'gauge'],
  ['quarry_index_disk_bytes', 'gauge'],
  ['quarry_index_memory_bytes', 'gauge'],
  ['quarry_eval_ndcg_at_10', 'gauge'],
  ['quarry_eval_recall_at_100', 'gauge'],
  ['quarry_eval_ndcg_at_10_baseline', 'gauge'],
  ['quarry_eval_recall_at_100_baseline', 'gauge'],
  ['quarry_embed_texts_total', 'counter'],
  ['quarry_ingest_documents_total', 'counter'],
  ['quarry_ingest_chunks_total', 'counter'],
];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, parsed: every sample line and every # TYPE line. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape() {
  return parse(await metricsText());
}

/** The value of the one sample with exactly these labels (0 when absent, as Prometheus reads a missing counter). */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels);
  const hits = samples.filter((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value ?? 0;
}

before(async () => {
  dir = await tempDir();
  const corpus = join(dir.path, 'notes.jsonl');
  const docs = [
    'The parcel was delayed at the Hamburg warehouse and the customer asked for a refund.',
    'Forklift certification and overtime rules were discussed at the staffing review.',
    'Invoice INV-7781 was paid twice; finance will reverse the second payment.',
    'The winter peak needs four temporary pickers on the night shift.',
    'A damaged pallet of glassware arrived in Rotterdam and was sent back to the supplier.',
    'Customs held the container in Antwerp for two days because a form was missing.',
  ];
  await writeFile(corpus, docs.map((text, i) => JSON.stringify({ _id: `doc-${i}`, text })).join('\n') + '\n');
  const embedder = await sharedEmbedder();
  modelLabel = `${embedder.identity.id}:${embedder.identity.variant}`;
  await indexPaths([corpus], { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder });
});
after(async () => {
  await closeEmbedders();
  await dir.cleanup();
});

async function run(query: string, opts: SearchOptions = {}) {
  return search(query, { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder(), ...opts });
}

test('every metric of the contract is exposed with its type, beside the process metrics; the content type is Prometheus text', async () => {
  const { types } = await scrape();
  for (const [name, type] of CONTRACT) assert.equal(types.get(name), type, `${name} should be a ${type}`);
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
    assert.ok(types.has(name), `default metric ${name} missing`);
  }
  const quarrySummaries = [...types].filter(([n, t]) => n.startsWith('quarry_') && t === 'summary');
  assert.deepEqual(quarrySummaries, [], 'quarry records histograms, never summaries');
  assert.match(METRICS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
});

test('searches are counted by collection and mode, each stage that ran by stage, and only those', async () => {
  const before = (await scrape()).samples;
  await run('refund for a delayed parcel', { mode: 'vector', k: 3 });
  await run('refund for a delayed parcel', { mode: 'hybrid', k: 3 });
  await run('refund for a delayed parcel', { mode: 'hybrid', k: 3 });
  await run('INV-7781', { mode: 'bm25', k: 3 });
  const afterScrape = (await scrape()).samples;
  const delta = (name: string, labels: Record<string, string>) => value(afterScrape, name, labels) - value(before, name, labels);

  const c = COLLECTION;
  assert.equal(delta('quarry_search_duration_seconds_count', { collection: c, mode: 'vector' }), 1);
  assert.equal(delta('quarry_search_duration_seconds_count', { collection: c, mode: 'hybrid' }), 2);
  assert.equal(delta('quarry_search_duration_seconds_count', { collection: c, mode: 'bm25' }), 1);
  assert.ok(delta('quarry_search_duration_seconds_sum', { collection: c, mode: 'hybrid' }) > 0);
  // every observation lands in the +Inf bucket
  assert.equal(delta('quarry_search_duration_seconds_bucket', { collection: c, mode: 'hybrid', le: '+Inf' }), 2);

  const stage = (mode: string, s: string) => delta('quarry_search_stage_duration_seconds_count', { collection: c, mode, stage: s });
  assert.deepEqual(
    ['embed', 'ann', 'bm25', 'fuse', 'rerank'].map((s) => stage('hybrid', s)),
    [2, 2, 2, 2, 0],
  );
  assert.deepEqual(
    ['embed', 'ann', 'bm25', 'fuse'].map((s) => stage('vector', s)),
    [1, 1, 0, 0],
  );
  assert.deepEqual(
    ['embed', 'ann', 'bm25', 'fuse'].map((s) => stage('bm25', s)),
    [0, 0, 1, 0],
  );
  assert.ok(delta('quarry_search_stage_duration_seconds_sum', { collection: c, mode: 'hybrid', stage: 'embed' }) > 0);

  // one query embedding per vector or hybrid search, under the model's id:variant
  assert.equal(delta('quarry_embed_duration_seconds_count', { model: modelLabel, kind: 'query' }), 3);
  assert.ok(value(afterScrape, 'quarry_embed_duration_seconds_count', { model: modelLabel, kind: 'documents' }) >= 1, 'indexing embedded documents');
  // throughput: one text per query embedding; the ingest embedded at least its six chunks
  assert.equal(delta('quarry_embed_texts_total', { model: modelLabel, kind: 'query' }), 3);
  assert.ok(value(afterScrape, 'quarry_embed_texts_total', { model: modelLabel, kind: 'documents' }) >= 6);
  // the ingest run's counts: six documents added, one chunk each, nothing else
  assert.equal(value(afterScrape, 'quarry_ingest_documents_total', { collection: c, change: 'added' }), 6);
  assert.equal(value(afterScrape, 'quarry_ingest_documents_total', { collection: c, change: 'updated' }), 0);
  assert.equal(value(afterScrape, 'quarry_ingest_chunks_total', { collection: c }), 6);

  // top-1 similarity: vector and hybrid searches, not bm25
  assert.equal(delta('quarry_search_top1_similarity_count', { collection: c }), 3);
  // results after the cutoff: 3 per search here
  assert.equal(delta('quarry_search_results_sum', { collection: c, mode: 'hybrid' }), 6);
  assert.equal(delta('quarry_search_results_bucket', { collection: c, mode: 'hybrid', le: '2' }), 0);
  assert.equal(delta('quarry_search_results_bucket', { collection: c, mode: 'hybrid', le: '5' }), 2);
});

test('the top-1 similarity is the cosine of the best vector hit, whatever the cutoff and the page leave', async () => {
  const best = (await run('customs held a container', { mode: 'vector', k: 1 })).results[0].scores.vector!;
  assert.ok(best > 0.3 && best <= 1, `premise: a relevant top hit, cosine ${best}`);
  const before = (await scrape()).samples;
  // the cutoff leaves nothing, the top hit's cosine is still what the distribution watches
  const none = await run('customs held a container', { mode: 'vector', k: 3, minScore: 0.9999 });
  assert.deepEqual(none.results, []);
  const afterScrape = (await scrape()).samples;
  const delta = (name: string, labels: Record<string, string>) => value(afterScrape, name, labels) - value(before, name, labels);
  assert.equal(delta('quarry_search_top1_similarity_count', { collection: COLLECTION }), 1);
  assert.ok(Math.abs(delta('quarry_search_top1_similarity_sum', { collection: COLLECTION }) - best) < 1e-6);
  // it lands in the bucket that holds it, in steps of 0.05 from -1 to 1
  const upper = Math.ceil(best * 20) / 20;
  const lower = upper - 0.05;
  assert.equal(delta('quarry_search_top1_similarity_bucket', { collection: COLLECTION, le: String(upper) }), 1);
  assert.equal(delta('quarry_search_top1_similarity_bucket', { collection: COLLECTION, le: String(Math.round(lower * 100) / 100) }), 0);
  const les = afterScrape.filter((s) => s.name === 'quarry_search_top1_similarity_bucket' && s.labels.collection === COLLECTION).map((s) => s.labels.le);
  assert.equal(les.length, 42, '41 bounds from -1 to 1, and +Inf');
  assert.deepEqual([les[0], les[20], les[39], les[40]], ['-1', '0', '0.95', '1']);
  // an empty result counts in the le="0" bucket of the result histogram
  assert.equal(delta('quarry_search_results_bucket', { collection: COLLECTION, mode: 'vector', le: '0' }), 1);
});

test('HTTP requests: a counter and a latency histogram by route, method and status', async () => {
  const before = (await scrape()).samples;
  recordHttpRequest('/collections/:name/search', 'post', 200, 0.012);
  recordHttpRequest('/collections/:name/search', 'POST', 200, 0.02);
  recordHttpRequest('/collections/:name/search', 'POST', 401, 0.001);
  const afterScrape = (await scrape()).samples;
  const labels = { route: '/collections/:name/search', method: 'POST', status: '200' };
  assert.equal(value(afterScrape, 'quarry_http_requests_total', labels) - value(before, 'quarry_http_requests_total', labels), 2);
  assert.equal(value(afterScrape, 'quarry_http_requests_total', { ...labels, status: '401' }) - value(before, 'quarry_http_requests_total', { ...labels, status: '401' }), 1);
  assert.equal(value(afterScrape, 'quarry_http_request_duration_seconds_count', labels) - value(before, 'quarry_http_request_duration_seconds_count', labels), 2);
  const sum = value(afterScrape, 'quarry_http_request_duration_seconds_sum', labels) - value(before, 'quarry_http_request_duration_seconds_sum', labels);
  assert.ok(Math.abs(sum - 0.032) < 1e-9);
  assert.equal(value(afterScrape, 'quarry_http_request_duration_seconds_bucket', { ...labels, le: '0.02' }) - value(before, 'quarry_http_request_duration_seconds_bucket', { ...labels, le: '0.02' }), 2);
});

test('collection and evaluation gauges hold what was set, per collection, and go when the collection does', async () => {
  setCollectionGauges(COLLECTION, { documents: 6, chunks: 7, vectors: 7, diskBytes: 123_456, memoryBytes: 65_536 });
  setEvalGauges(COLLECTION, { ndcgAt10: 0.71, recallAt100: 0.93, baselineNdcgAt10: 0.7, baselineRecallAt100: 0.95 });
  setEvalGauges('other', { ndcgAt10: 0.5, recallAt100: 0.8 });
  let { samples } = await scrape();
  const one = { collection: COLLECTION };
  assert.deepEqual(
    ['quarry_documents', 'quarry_chunks', 'quarry_vectors', 'quarry_index_disk_bytes', 'quarry_index_memory_bytes'].map((n) => value(samples, n, one)),
    [6, 7, 7, 123_456, 65_536],
  );
  assert.deepEqual(
    ['quarry_eval_ndcg_at_10', 'quarry_eval_recall_at_100', 'quarry_eval_ndcg_at_10_baseline', 'quarry_eval_recall_at_100_baseline'].map((n) => value(samples, n, one)),
    [0.71, 0.93, 0.7, 0.95],
  );
  assert.equal(value(samples, 'quarry_eval_ndcg_at_10', { collection: 'other' }), 0.5);
  // no baseline given: none is invented
  assert.equal(samples.filter((s) => s.name === 'quarry_eval_ndcg_at_10_baseline' && s.labels.collection === 'other').length, 0);

  forgetCollectionGauges(COLLECTION);
  ({ samples } = await scrape());
  assert.equal(samples.filter((s) => s.labels.collection === COLLECTION && /^quarry_(documents|chunks|vectors|index_|eval_)/.test(s.name)).length, 0);
  assert.equal(value(samples, 'quarry_eval_ndcg_at_10', { collection: 'other' }), 0.5);
});

test('a second copy of the module registers its own metrics without colliding', async () => {
  // a different specifier evaluates the module again, as two copies of quarry in one process would
  const again = (await import(`../src/observe/metrics.js?copy=${Date.now()}`)) as typeof import('../src/observe/metrics.js');
  assert.notEqual(again.metricsRegistry, (await import('../src/observe/metrics.js')).metricsRegistry);
  const { types } = parse(await again.metricsText());
  assert.equal(types.get('quarry_search_duration_seconds'), 'histogram');
});

test('a search with observe: false (evaluation queries) leaves the search metrics alone', async () => {
  const c = await Collection.open(dir.path, COLLECTION, 'read');
  try {
    const session = new SearchSession(LocalReader.wrap(c), await sharedEmbedder());
    const before = await scrape();
    const count = () => value(before.samples, 'quarry_search_duration_seconds_count', { collection: COLLECTION, mode: 'hybrid' });
    const was = count();
    const quiet = await session.retrieve('parcel', { mode: 'hybrid', k: 3, observe: false });
    assert.ok(quiet.hits.length > 0);
    const mid = await scrape();
    assert.equal(value(mid.samples, 'quarry_search_duration_seconds_count', { collection: COLLECTION, mode: 'hybrid' }), was);
    await session.retrieve('parcel', { mode: 'hybrid', k: 3 });
    const end = await scrape();
    assert.equal(value(end.samples, 'quarry_search_duration_seconds_count', { collection: COLLECTION, mode: 'hybrid' }), was + 1);
    session.close();
  } finally {
    await c.close();
  }
});
