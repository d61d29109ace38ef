import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deleteDocuments } from '../src/api/delete-documents.js';
import { indexPaths } from '../src/api/index-paths.js';
import { search, type SearchOptions } from '../src/api/search.js';
import { check } from '../src/api/check.js';
import { info } from '../src/api/info.js';
import { compact, rollback, versions } from '../src/api/versions.js';
import { isQuarryError } from '../src/errors.js';
import type { Embedder } from '../src/embed/embedder.js';
import { EmbeddingReranker } from '../src/retrieve/rerank.js';
import { TIER2_CACHE_FILE } from '../src/store/tier2-cache.js';
import { readEvalHistory } from '../src/eval/history.js';
import { runCli } from './support/cli.js';
import { modelsDir, tempDir } from './support/env.js';
import { closeEmbedders, sharedEmbedder } from './support/model.js';

let dir: { path: string; cleanup: () => Promise<void> };
let corpusDir: string;
const TARGET = 'order-42';

/**
 * Thirty short order notes, each with its own order id, and one long note about staffing
 * that mentions ORD-2024-00042 once: a vector search for the id finds the short notes with
 * look-alike ids first, BM25 finds the one document that has it.
 */
function corpus(): string {
  const lines: string[] = [];
  const places = ['Hamburg', 'Rotterdam', 'Antwerp', 'Gdansk', 'Le Havre'];
  for (let i = 1; i <= 30; i++) {
    const id = `ORD-2024-${String(i).padStart(5, '0')}`;
    lines.push(
      JSON.stringify({
        _id: `order-${i}`,
        text: `Order ${id}: the parcel was delayed at the ${places[i % 5]} warehouse and the customer asked for a refund.`,
        metadata: { region: i % 2 === 0 ? 'north' : 'south' },
      }),
    );
  }
  lines.push(
    JSON.stringify({
      _id: TARGET,
      text:
        'Staffing review for the night shift. Forklift certification, overtime rules and the rota for the winter peak ' +
        'were discussed at length; the team agreed to hire four temporary pickers and to move the safety briefing to ' +
        'Monday mornings. One open item from the previous review, ORD-2024-00042, is still waiting for a signature from ' +
        'the regional manager. Canteen hours stay the same and the parking lot will be resurfaced in spring.',
      metadata: { region: 'north' },
    }),
  );
  return lines.join('\n') + '\n';
}

before(async () => {
  dir = await tempDir();
  corpusDir = join(dir.path, 'beir');
  await mkdir(join(corpusDir, 'qrels'), { recursive: true });
  await writeFile(join(corpusDir, 'corpus.jsonl'), corpus());
  await indexPaths([join(corpusDir, 'corpus.jsonl')], { dataDir: dir.path, modelsDir: modelsDir(), embedder: await sharedEmbedder() });
});
after(async () => {
  await closeEmbedders();
  await dir.cleanup();
});

async function run(query: string, opts: SearchOptions = {}) {
  return search(query, { dataDir: dir.path, modelsDir: modelsDir(), embedder: await sharedEmbedder(), ...opts });
}

test('an identifier query: vector search alone misses it, bm25 and hybrid find its one document first', async () => {
  const vector = await run('ORD-2024-00042', { mode: 'vector', k: 5 });
  assert.notEqual(vector.results[0].docId, TARGET, 'premise: vector search alone must miss it');
  const bm25 = await run('ORD-2024-00042', { mode: 'bm25', k: 5 });
  assert.equal(bm25.results[0].docId, TARGET);
  assert.equal(bm25.results[0].scores.vector, null);
  assert.ok(bm25.results[0].scores.bm25! > 0);
  const hybrid = await run('ORD-2024-00042', { mode: 'hybrid', k: 5 });
  assert.equal(hybrid.results[0].docId, TARGET);
  assert.equal(hybrid.mode, 'hybrid');
  for (const r of hybrid.results) {
    assert.ok(r.scores.fused! > 0);
    assert.ok(r.scores.vector !== null || r.scores.bm25 !== null);
  }
  assert.ok(hybrid.stagesMs.embed! >= 0 && hybrid.stagesMs.bm25! >= 0 && hybrid.stagesMs.fuse! >= 0);
});

test('hybrid pagination: pages cut from one fused list, ranks continue', async () => {
  const all = await run('parcel delayed at the warehouse', { mode: 'hybrid', k: 12 });
  const p1 = await run('parcel delayed at the warehouse', { mode: 'hybrid', k: 6 });
  const p2 = await run('parcel delayed at the warehouse', { mode: 'hybrid', k: 6, offset: 6 });
  assert.equal(all.results.length, 12);
  assert.deepEqual(
    [...p1.results, ...p2.results].map((r) => [r.rank, r.chunkId, r.score]),
    all.results.map((r) => [r.rank, r.chunkId, r.score]),
  );
  assert.equal(p2.results[0].rank, 7);
  // weights change the fused order: all weight on bm25 gives bm25's order
  const bm25Only = await run('parcel delayed at the warehouse', { mode: 'hybrid', k: 5, weights: 'vector=0,bm25=1' });
  const bm25 = await run('parcel delayed at the warehouse', { mode: 'bm25', k: 5 });
  assert.deepEqual(
    bm25Only.results.map((r) => r.chunkId),
    bm25.results.map((r) => r.chunkId),
  );
});

test('the cutoff is on the cosine in vector and hybrid mode (either fusion) and may return nothing; bm25 alone refuses it', async () => {
  assert.deepEqual((await run('parcel refund', { mode: 'vector', minScore: 0.999 })).results, []);
  // a cosine is at most 1, whatever the fused scores (convex up to Σw = 2)
  assert.deepEqual((await run('parcel refund', { mode: 'hybrid', minScore: 1 + 1e-9 })).results, []);
  assert.deepEqual((await run('parcel refund', { mode: 'hybrid', fusion: 'rrf', minScore: 1 + 1e-9 })).results, []);
  const top = (await run('parcel refund', { mode: 'hybrid', k: 1 })).results[0];
  assert.ok(top.score > 1 && top.score <= 2, `convex top score ${top.score}`);
  const rrfTop = (await run('parcel refund', { mode: 'hybrid', fusion: 'rrf', k: 1 })).results[0];
  assert.ok(rrfTop.score > 1 / 61 && rrfTop.score <= 2 / 61, `rrf top score ${rrfTop.score}`);
  for (const mode of ['vector', 'hybrid'] as const) {
    const some = await run('parcel refund', { mode, minScore: 0.2, chunks: true, k: 50 });
    assert.ok(some.results.length > 0 && some.results.every((r) => r.scores.vector! >= 0.2), mode);
  }
  const rrf = await run('parcel refund', { mode: 'hybrid', fusion: 'rrf', minScore: 0.2, chunks: true, k: 50 });
  assert.deepEqual(rrf.results.map((r) => r.chunkId).sort(), (await run('parcel refund', { mode: 'vector', minScore: 0.2, chunks: true, k: 50 })).results.map((r) => r.chunkId).sort());
  await assert.rejects(run('parcel refund', { mode: 'bm25', minScore: 1e6 }), /bm25 mode computes neither/);
  // an exact whole-query identifier passes whatever its cosine, in hybrid mode (where it is pinned)
  const exact = await run('ORD-2024-00042', { mode: 'hybrid', minScore: 0.99 });
  assert.deepEqual(exact.results.map((r) => r.docId), [TARGET]);
  assert.ok(exact.results[0].scores.vector! < 0.99);
  assert.deepEqual((await run('ORD-2024-00042', { mode: 'vector', minScore: 0.99 })).results, []);
  assert.deepEqual((await run('zzzqqq', { mode: 'bm25' })).results, []);
});

test('metadata filters apply to bm25 and hybrid too', async () => {
  for (const mode of ['bm25', 'hybrid'] as const) {
    const res = await run('parcel refund warehouse', { mode, k: 20, filter: { region: 'north' } });
    assert.ok(res.results.length > 0);
    for (const r of res.results) assert.equal(r.metadata.region, 'north', mode);
  }
});

test('tier 2: an embedding reranker rescored the top N, its scores on every result, candidates cached by content', async () => {
  const reranker = new EmbeddingReranker(await sharedEmbedder());
  // weight 1: tier 2 alone orders the pool
  const res = await run('refund for a delayed parcel', { mode: 'hybrid', k: 5, rerank: true, reranker, rerankTopN: 10, rerankWeight: 1 });
  assert.equal(res.results.length, 5);
  assert.match(res.reranker!, /^embedding sentence-transformers\/all-MiniLM-L6-v2/);
  for (let i = 0; i < res.results.length; i++) {
    const r = res.results[i];
    assert.ok(r.scores.rerank !== null);
    if (i > 0) assert.ok(res.results[i - 1].scores.rerank! >= r.scores.rerank, 'ordered by the tier-2 score');
    // same model as the first tier and no title: the tier-2 cosine is the vector score
    if (r.scores.vector !== null) assert.ok(Math.abs(r.scores.rerank - r.scores.vector) < 1e-4);
  }
  const cached = reranker.cached;
  assert.ok(cached >= 10);
  // default weight: score = 0.7 · minmax(tier 2) + 0.3 · minmax(fused) over the pool of 10
  // (the API rounds scores to 6 decimals, which min-max magnifies: hence 1e-3)
  const blended = await run('refund for a delayed parcel', { mode: 'hybrid', k: 10, rerank: true, reranker, rerankTopN: 10 });
  assert.equal(reranker.cached, cached, 'no candidate embedded twice');
  const mm = (xs: number[]) => xs.map((x) => (x - Math.min(...xs)) / (Math.max(...xs) - Math.min(...xs)));
  const t2 = mm(blended.results.map((r) => r.scores.rerank!));
  const fused = mm(blended.results.map((r) => r.scores.fused!));
  blended.results.forEach((r, i) => assert.ok(Math.abs(r.score - (0.7 * t2[i] + 0.3 * fused[i])) < 1e-3, `blend of result ${i}`));
  for (let i = 1; i < blended.results.length; i++) assert.ok(blended.results[i - 1].score >= blended.results[i].score);
  // the cutoff applies to the tier-2 score, and may leave nothing
  const cut = await run('refund for a delayed parcel', { mode: 'hybrid', k: 10, rerank: true, reranker, rerankTopN: 10, minScore: 0.3 });
  assert.ok(cut.results.every((r) => r.scores.rerank! >= 0.3));
  assert.deepEqual((await run('refund for a delayed parcel', { mode: 'hybrid', rerank: true, reranker, minScore: 0.9999 })).results, []);
  await assert.rejects(run('x', { mode: 'hybrid', rerank: true, reranker, rerankWeight: 1.5 }), /rerankWeight must be a number from 0 to 1/);
  await assert.rejects(run('x', { mode: 'bm25', rerank: true, rerankModel: 'no-such-model' }), /unknown model|no-such-model/i);
});

test('tier 2: candidate vectors persist beside the collection, a new process embeds none again; compact drops them', async () => {
  const base = await sharedEmbedder();
  let embedded = 0;
  const counting: Embedder = {
    identity: base.identity,
    dims: base.dims,
    tokenizer: base.tokenizer,
    embed: async (texts) => {
      embedded += texts.length;
      return base.embed(texts);
    },
    embedQuery: (t) => base.embedQuery(t),
    close: async () => undefined,
  };
  const q = 'warehouse delay refund request';
  await compact({ dataDir: dir.path }); // start empty: the test before filled the cache
  const first = await run(q, { mode: 'hybrid', k: 5, rerank: true, reranker: new EmbeddingReranker(counting), rerankTopN: 8 });
  assert.equal(embedded, 8);
  assert.ok(existsSync(join(dir.path, 'default', TIER2_CACHE_FILE)));
  // a fresh reranker (empty memory, as in a new process) reads them back from disk
  const again = await run(q, { mode: 'hybrid', k: 5, rerank: true, reranker: new EmbeddingReranker(counting), rerankTopN: 8 });
  assert.equal(embedded, 8, 'nothing re-embedded');
  assert.deepEqual(
    again.results.map((r) => [r.chunkId, r.scores.rerank]),
    first.results.map((r) => [r.chunkId, r.scores.rerank]),
  );
  await compact({ dataDir: dir.path });
  assert.equal(existsSync(join(dir.path, 'default', TIER2_CACHE_FILE)), false);
  await run(q, { mode: 'hybrid', k: 5, rerank: true, reranker: new EmbeddingReranker(counting), rerankTopN: 8 });
  assert.equal(embedded, 16, 'refilled on demand after compact');
});

test('re-indexing unchanged documents does not rewrite the BM25 file; its state follows the head', async () => {
  const file = join(dir.path, 'default', 'indexes', 'bm25.qlex');
  const before = await stat(file);
  await indexPaths([join(corpusDir, 'corpus.jsonl')], { dataDir: dir.path, modelsDir: modelsDir(), embedder: await sharedEmbedder() });
  const afterStat = await stat(file);
  assert.equal(afterStat.ino, before.ino, 'same file, not replaced');
  assert.equal(afterStat.mtimeMs, before.mtimeMs);
  const i = await info({ dataDir: dir.path });
  assert.equal(i.lexical!.generation, i.version);
  assert.equal((await run('ORD-2024-00042', { mode: 'bm25', k: 1 })).results[0].docId, TARGET);
});

test('the BM25 index follows deletes and rollback', async () => {
  await deleteDocuments([TARGET], { dataDir: dir.path });
  const gone = await run('ORD-2024-00042', { mode: 'bm25', k: 50 });
  assert.ok(!gone.results.some((r) => r.docId === TARGET));
  const v = await versions({ dataDir: dir.path });
  const current = v.find((x) => x.current)!;
  await rollback(current.version - 1, { dataDir: dir.path });
  const back = await run('ORD-2024-00042', { mode: 'bm25', k: 1 });
  assert.equal(back.results[0].docId, TARGET);
});

test('quarry search --mode hybrid and quarry eval from the command line', async () => {
  const s = await runCli(['search', 'ORD-2024-00042', '--mode', 'hybrid', '--weights', 'vector=1,bm25=1', '--rrf-k', '60', '--json', '--data', dir.path]);
  assert.equal(s.code, 0, s.stderr);
  const res = JSON.parse(s.stdout) as { mode: string; results: Array<{ docId: string; scores: Record<string, number | null> }> };
  assert.equal(res.mode, 'hybrid');
  assert.equal(res.results[0].docId, TARGET);
  assert.deepEqual(Object.keys(res.results[0].scores).sort(), ['bm25', 'fused', 'rerank', 'vector']);
  const bad = await runCli(['search', 'x', '--mode', 'hybrid', '--weights', 'vectr=1', '--data', dir.path]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /unknown retriever "vectr"/);

  await writeFile(join(corpusDir, 'queries.jsonl'), ['ORD-2024-00042', 'ORD-2024-00007', 'ORD-2024-00019'].map((t, i) => JSON.stringify({ _id: `q${i}`, text: t })).join('\n') + '\n');
  await writeFile(join(corpusDir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq0\torder-42\t1\nq1\torder-7\t1\nq2\torder-19\t1\n');
  const e = await runCli(['eval', '--dataset', corpusDir, '--modes', 'bm25,vector,hybrid', '--json', '--data', dir.path, '--collection', 'default']);
  assert.equal(e.code, 0, e.stderr);
  const report = JSON.parse(e.stdout) as { queries: number; modes: Array<Record<string, number> & { mode: string; latencyMs: { p50: number; p99: number } }> };
  assert.equal(report.queries, 3);
  assert.deepEqual(
    report.modes.map((m) => m.mode),
    ['bm25', 'vector', 'hybrid'],
  );
  const bm25 = report.modes[0];
  assert.equal(bm25['ndcg@10'], 1);
  assert.equal(bm25['mrr@10'], 1);
  assert.equal(bm25['recall@100'], 1);
  assert.ok(Math.abs(bm25['p@10'] - 0.1) < 1e-9);
  assert.equal(report.modes[2]['ndcg@10'], 1);
  for (const m of report.modes) {
    assert.ok(m['ndcg@10'] >= 0 && m['ndcg@10'] <= 1);
    assert.ok(m.latencyMs.p50 > 0 && m.latencyMs.p99 >= m.latencyMs.p50);
  }
  // the run joins the collection's evaluation history, with the command that made it
  const history = await readEvalHistory(dir.path, 'default');
  const last = history.entries.at(-1)!;
  assert.equal(last.modes.find((m) => m.mode === 'bm25')?.metrics['ndcg@10'], 1);
  assert.match(last.command ?? '', /^quarry eval --dataset \S+ --modes bm25,vector,hybrid --json --data \S+ --collection default$/);
});

test('a damaged BM25 file fails quarry check and bm25 search loudly; compact rebuilds it', async () => {
  const file = join(dir.path, 'default', 'indexes', 'bm25.qlex');
  const bytes = await readFile(file);
  bytes[bytes.length - 5] ^= 0xff;
  await writeFile(file, bytes);
  const report = await check({ dataDir: dir.path });
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => /lexical index .*bm25\.qlex/.test(p)), report.problems.join('\n'));
  await assert.rejects(run('ORD-2024-00042', { mode: 'bm25' }), (e) => isQuarryError(e) && e.category === 'integrity');
  await compact({ dataDir: dir.path });
  assert.equal((await check({ dataDir: dir.path })).ok, true);
  assert.equal((await run('ORD-2024-00042', { mode: 'bm25', k: 1 })).results[0].docId, TARGET);
  const i = await info({ dataDir: dir.path });
  assert.equal(i.lexical!.documents, i.chunks);
});
