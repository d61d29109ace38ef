/**
 * What a search returns by default (issue 13, item 5): hybrid mode in the library, the CLI
 * and the HTTP API; one result per document at the rank of its best chunk, with its other
 * matching chunks under `passages` (`chunks: true` keeps the chunk list); k and offset
 * counting documents; and evaluation ranking documents exactly as search does.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { evaluate } from '../src/api/evaluate.js';
import { indexPaths } from '../src/api/index-paths.js';
import { search, type SearchOptions, type SearchResponse } from '../src/api/search.js';
import { groupByDocument } from '../src/retrieve/group.js';
import { runCli } from './support/cli.js';
import { modelsDir, tempDir } from './support/env.js';
import { closeEmbedders, sharedEmbedder } from './support/model.js';
import { bearer, HASH_MODEL, hashEmbedder, hashServer, json, key } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let dataset: string;
const COLLECTION = 'beir-topics';

/** Six long documents (several 256-token chunks each) on distinct subjects, as a BEIR corpus. */
const TOPICS: Record<string, string[]> = {
  glaciers: [
    'Alpine glaciers have lost a large share of their ice since the nineteenth century',
    'meltwater from retreating glaciers feeds rivers during the dry summer months',
    'crevasses open where the ice flows over steep bedrock and bends',
    'moraines of rock and gravel mark how far a glacier once reached',
  ],
  bread: [
    'a sourdough starter is a culture of wild yeast and lactic bacteria kept in flour and water',
    'long cold fermentation gives the loaf a tangy flavour and an open crumb',
    'bakers fold the dough several times during the first rise to build strength',
    'a hot dutch oven traps steam so the crust can expand before it sets',
  ],
  volcanoes: [
    'basaltic lava flows are runny and can travel many kilometres from the vent',
    'explosive eruptions throw ash high into the stratosphere and cool the climate',
    'magma chambers swell before an eruption and tilt the ground measurably',
    'volcanic soils weather into some of the most fertile farmland on earth',
  ],
  chess: [
    'the opening fights for the centre squares and develops knights before bishops',
    'an endgame with king and pawn against king is won or drawn by the opposition',
    'grandmasters calculate forcing lines of checks captures and threats first',
    'a fianchettoed bishop watches the long diagonal from its corner',
  ],
  bees: [
    'honey bees tell their sisters where flowers are with a waggle dance',
    'a colony raises a new queen on royal jelly when the old one fails',
    'worker bees fan their wings to evaporate water from the nectar in the comb',
    'varroa mites weaken colonies by feeding on developing brood',
  ],
  trains: [
    'high speed rail lines use gentle curves and slab track to run above 300 km/h',
    'regenerative braking returns energy to the overhead line when a train slows',
    'signalling systems keep trains a safe braking distance apart',
    'night trains with sleeping cars are returning to many European routes',
  ],
};

function longText(name: string, sentences: string[]): string {
  const out: string[] = [];
  // ~700 words: three or four chunks of 256 tokens
  for (let i = 0; i < 36; i++) out.push(`${sentences[i % sentences.length]} (note ${i + 1} on ${name}).`);
  return out.join(' ');
}

const QUERIES = [
  { id: 'q1', text: 'why do glaciers shrink and what happens to the ice' },
  { id: 'q2', text: 'how to bake sourdough bread with wild yeast' },
  { id: 'q3', text: 'what happens before a volcano erupts' },
  { id: 'q4', text: 'how do bees communicate about flowers' },
];

before(async () => {
  dir = await tempDir();
  dataset = join(dir.path, 'topics');
  await mkdir(join(dataset, 'qrels'), { recursive: true });
  const corpus = Object.entries(TOPICS).map(([name, s]) => JSON.stringify({ _id: name, title: `On ${name}`, text: longText(name, s) }));
  await writeFile(join(dataset, 'corpus.jsonl'), corpus.join('\n') + '\n');
  await writeFile(join(dataset, 'queries.jsonl'), QUERIES.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n') + '\n');
  // the collection evaluate() would make, made here first so search can shape the judgments
  await indexPaths([join(dataset, 'corpus.jsonl')], { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder() });
});

after(async () => {
  await closeEmbedders();
  await dir.cleanup();
});

async function run(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
  return search(query, { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder(), ...opts });
}

test('the library searches in hybrid mode unless told otherwise', async () => {
  const res = await run('glacier ice');
  assert.equal(res.mode, 'hybrid');
  assert.ok(res.stagesMs.bm25 !== undefined && res.stagesMs.embed !== undefined && res.stagesMs.fuse !== undefined, JSON.stringify(res.stagesMs));
  assert.ok(res.results.every((r) => r.scores.fused !== null));
});

test('the CLI searches in hybrid mode unless told otherwise; --chunks prints the chunk list', async () => {
  const out = await runCli(['search', 'glacier ice', '--collection', COLLECTION, '--data', dir.path, '--json']);
  assert.equal(out.code, 0, out.stderr);
  const res = JSON.parse(out.stdout) as SearchResponse;
  assert.equal(res.mode, 'hybrid');
  assert.equal(res.unit, 'document');
  assert.equal(new Set(res.results.map((r) => r.docId)).size, res.results.length, 'a document listed twice');
  const chunks = JSON.parse((await runCli(['search', 'glacier ice', '--chunks', '--k', '8', '--collection', COLLECTION, '--data', dir.path, '--json'])).stdout) as SearchResponse;
  assert.equal(chunks.unit, 'chunk');
  assert.equal(chunks.results.length, 8);
  assert.ok(chunks.results.every((r) => r.passages === undefined));
  const text = await runCli(['search', 'glacier ice', '--k', '2', '--collection', COLLECTION, '--data', dir.path]);
  assert.match(text.stdout, /^1\. \d\.\d{4} \(cosine 0\.\d{4}\) {2}\S*topics\/corpus\.jsonl/m);
  assert.match(text.stdout, /^ {3}also \[\d+-\d+\]/m, 'no passages listed under a document');
});

test('the HTTP API searches in hybrid mode unless told otherwise, and answers documents unless asked for chunks', async () => {
  const data = join(dir.path, 'server');
  const embedder = await hashEmbedder();
  const admin = await key(data, 'admin', ['*']);
  const app = await hashServer(data, embedder);
  try {
    await app.ready();
    const req = (url: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, headers: bearer(admin), payload });
    assert.equal((await req('/collections', { name: 'notes', model: HASH_MODEL, chunkTokens: 32, overlapTokens: 0 })).statusCode, 201);
    const up = await req('/collections/notes/documents', {
      documents: [
        { id: 'a', text: 'herons fish in the shallow river at dawn. '.repeat(20) },
        { id: 'b', text: 'kingfishers dive from a branch over the river. '.repeat(20) },
      ],
    });
    assert.equal(up.statusCode, 200, up.body);
    const res = json<SearchResponse>(await req('/collections/notes/search', { query: 'river fish' }));
    assert.equal(res.mode, 'hybrid');
    assert.equal(res.unit, 'document');
    assert.deepEqual(res.results.map((r) => r.docId).sort(), ['a', 'b']);
    assert.ok(res.results.every((r) => r.passages!.length > 0), 'no passages under a document of many chunks');
    const chunks = json<SearchResponse>(await req('/collections/notes/search', { query: 'river fish', chunks: true, k: 6 }));
    assert.equal(chunks.unit, 'chunk');
    assert.equal(chunks.results.length, 6, 'each document has several chunks');
    const spec = json<{ paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, { default?: unknown }> } }> } } }> }>(
      await app.inject({ method: 'GET', url: '/openapi.json', headers: bearer(admin) }),
    );
    const body = spec.paths['/collections/{name}/search'].post.requestBody.content['application/json'].schema;
    assert.equal(body.properties.mode.default, 'hybrid');
  } finally {
    await app.close();
  }
});

test('documents: one result per document at its best chunk, its other matching chunks under it; k and offset count documents', async () => {
  const q = 'volcano magma eruption ash';
  const docs = await run(q, { k: 4 });
  const chunks = await run(q, { k: 60, chunks: true });
  assert.equal(docs.unit, 'document');
  assert.equal(chunks.unit, 'chunk');
  // premise: the chunk list repeats documents (else grouping would change nothing)
  assert.ok(new Set(chunks.results.slice(0, 4).map((r) => r.docId)).size < 4, 'the premise failed: the top 4 chunks are 4 documents');
  assert.equal(docs.results.length, 4);
  assert.deepEqual(docs.results.map((r) => r.rank), [1, 2, 3, 4]);
  assert.equal(new Set(docs.results.map((r) => r.docId)).size, 4);
  // the order of documents is the order of their best chunks in the chunk list
  const firstSeen = [...new Set(chunks.results.map((r) => r.docId))].slice(0, 4);
  assert.deepEqual(docs.results.map((r) => r.docId), firstSeen);
  for (const d of docs.results) {
    const own = chunks.results.filter((c) => c.docId === d.docId);
    assert.equal(d.chunkId, own[0].chunkId, 'the snippet is the best chunk');
    assert.equal(d.score, own[0].score);
    assert.equal(d.text, own[0].text);
    assert.deepEqual(d.passages!.map((p) => p.chunkId), own.slice(1, 4).map((c) => c.chunkId), `passages of ${d.docId}`);
    for (const p of d.passages!) assert.ok(p.chunkId.startsWith(`${d.docId}#`) && p.score <= d.score);
  }
  // pages of documents
  const p1 = await run(q, { k: 2 });
  const p2 = await run(q, { k: 2, offset: 2 });
  assert.deepEqual([...p1.results, ...p2.results].map((r) => [r.rank, r.docId]), docs.results.map((r) => [r.rank, r.docId]));
});

test('--chunks keeps the chunk list: ranks per chunk, no passages, a document may repeat', async () => {
  const res = await run('volcano magma eruption ash', { k: 6, chunks: true });
  assert.equal(res.results.length, 6);
  assert.deepEqual(res.results.map((r) => r.rank), [1, 2, 3, 4, 5, 6]);
  assert.ok(res.results.every((r) => r.passages === undefined && /#\d+$/.test(r.chunkId)));
  assert.ok(new Set(res.results.map((r) => r.docId)).size < 6);
});

test('the cutoff is the cosine in every mode: vector and hybrid keep the same chunks; bm25 alone refuses it', async () => {
  const q = 'how do bees communicate about flowers';
  const all = await run(q, { mode: 'vector', k: 100, chunks: true });
  const cos = new Map(all.results.map((r) => [r.chunkId, r.scores.vector!]));
  const sorted = [...cos.values()].sort((a, b) => b - a);
  const min = (sorted[2] + sorted[3]) / 2; // exactly three chunks pass
  const vector = await run(q, { mode: 'vector', k: 100, chunks: true, minScore: min });
  const hybrid = await run(q, { mode: 'hybrid', k: 100, chunks: true, minScore: min });
  const ids = (r: SearchResponse) => r.results.map((x) => x.chunkId).sort();
  assert.equal(vector.results.length, 3);
  assert.deepEqual(ids(hybrid), ids(vector));
  // the fused score is on another scale (RRF's is at most 2/61): the cut is not on it
  const rrf = await run(q, { mode: 'hybrid', fusion: 'rrf', k: 100, chunks: true, minScore: min });
  assert.ok(rrf.results.every((r) => r.score < min));
  assert.deepEqual(ids(rrf), ids(vector));
  // a chunk only BM25 brought in (a window of 2 per retriever) still gets its true cosine
  const narrow = await run(q, { mode: 'hybrid', k: 4, chunks: true, window: 2 });
  for (const r of narrow.results) assert.ok(Math.abs(r.scores.vector! - cos.get(r.chunkId)!) < 1e-5, `${r.chunkId}: ${r.scores.vector} vs ${cos.get(r.chunkId)}`);
  // documents pass by their best chunk: the same cut keeps the documents of those three chunks
  const docs = await run(q, { mode: 'hybrid', minScore: min });
  assert.deepEqual(docs.results.map((r) => r.docId).sort(), [...new Set(vector.results.map((r) => r.docId))].sort());
  assert.deepEqual((await run(q, { mode: 'hybrid', minScore: 1.0001 })).results, []);
  await assert.rejects(run(q, { mode: 'bm25', minScore: 0.2 }), /cosine similarity.*bm25 mode computes neither/);
});

test('evaluation ranks documents exactly as search returns them', async () => {
  // judgments made from search's own answers: query i's relevant document is search's result at rank r_i
  const pick = [1, 2, 3, 2];
  const lines = ['query-id\tcorpus-id\tscore'];
  for (const [i, q] of QUERIES.entries()) {
    const res = await run(q.text, { k: 10 });
    lines.push(`${q.id}\t${res.results[pick[i] - 1].docId}\t1`);
  }
  await writeFile(join(dataset, 'qrels', 'test.tsv'), lines.join('\n') + '\n');
  const report = await evaluate({ dataset, dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder(), modes: ['hybrid'] });
  const want = pick.reduce((s, r) => s + 1 / r, 0) / pick.length;
  assert.ok(Math.abs(report.modes[0]['mrr@10'] - want) < 1e-4, `MRR@10 ${report.modes[0]['mrr@10']}, search's ranks give ${want}`);
});

test('one grouping: best chunk first, passages in rank order and capped, unknown and skipped documents left out, a limit of documents', () => {
  const hits = [
    { id: 1, d: 'a' },
    { id: 2, d: 'b' },
    { id: 3, d: 'a' },
    { id: 4, d: undefined },
    { id: 5, d: 'c' },
    { id: 6, d: 'a' },
    { id: 7, d: 'a' },
    { id: 8, d: 'a' },
    { id: 9, d: 'd' },
  ];
  const g = groupByDocument(hits, (h) => h.d, { limit: 3, passages: 2, skip: (d) => d === 'b' });
  assert.deepEqual(
    g.map((x) => [x.docId, x.best.id, x.passages.map((p) => p.id)]),
    [
      ['a', 1, [3, 6]],
      ['c', 5, []],
      ['d', 9, []],
    ],
  );
});
