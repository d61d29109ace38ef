import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { systemCard, STANDING_LIMITATIONS } from '../src/api/card.js';
import { indexPaths } from '../src/api/index-paths.js';
import { info } from '../src/api/info.js';
import { listGenerations } from '../src/api/generations.js';
import { upsertDocuments } from '../src/api/upsert-documents.js';
import { versions } from '../src/api/versions.js';
import { appendEvalHistory, type EvalHistoryEntry } from '../src/eval/history.js';
import { DEPLOYMENT_FORMAT, writeDeployment, type Deployment } from '../src/store/deployment.js';
import { runCli } from './support/cli.js';
import { REPO_ROOT, tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, hashServer, key } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
let data: string;
let src: string;
const C = 'kb';
const opts = () => ({ dataDir: data, collection: C, embedder });

before(async () => {
  dir = await tempDir('quarry-card-');
  embedder = await HashEmbedder.create();
  data = join(dir.path, 'data');
  src = join(dir.path, 'src');
  await mkdir(join(src, 'guides'), { recursive: true });
  await mkdir(join(src, 'notes'), { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(src, 'guides', `g${i}.md`), `# Guide ${i}\n\nHow to prune apple tree number ${i} in the spring.`);
  await writeFile(join(src, 'notes', 'n0.txt'), 'A note about pears and the orchard gate.');
  const corpus = [0, 1, 2, 3].map((i) => JSON.stringify({ _id: `c${i}`, title: `Claim ${i}`, text: `Claim ${i} says cherries ripen in June.` }));
  await writeFile(join(src, 'corpus.jsonl'), corpus.join('\n') + '\n');
  await indexPaths([src], { ...opts(), chunkTokens: 64, overlapTokens: 8 });
  await upsertDocuments([{ id: 'r1', text: 'A record sent over the API about plums.' }], opts());
});
after(async () => {
  await dir.cleanup();
});

/** The alert names in the shipped rules file, read independently of the card. */
async function alertNames(): Promise<string[]> {
  const doc = parseYaml(await readFile(join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
  return doc.groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => r.alert!));
}

test("the card's facts are the store's: counts, sources, lineage, model, chunking, index, versions, generations", async () => {
  const { facts, markdown } = await systemCard(opts());
  const i = await info(opts());

  assert.equal(facts.collection, C);
  assert.equal(facts.data.documents, i.documents);
  assert.equal(facts.data.chunks, i.chunks);
  assert.equal(facts.data.documents, 3 + 1 + 4 + 1);
  assert.equal(facts.version, i.version);
  const sum = (xs: Array<{ documents: number; chunks: number }>, k: 'documents' | 'chunks') => xs.reduce((n, x) => n + x[k], 0);
  assert.deepEqual(Object.fromEntries(facts.data.byFormat.map((g) => [g.value, g.documents])), { markdown: 3, text: 1, jsonl: 4, record: 1 });
  assert.equal(sum(facts.data.byFormat, 'chunks'), i.chunks);
  assert.deepEqual(
    facts.data.bySource.groups.map((g) => [g.kind, g.value, g.documents]),
    [
      ['file', join(src, 'corpus.jsonl'), 4],
      ['folder', join(src, 'guides'), 3],
      ['records', '(records sent over the HTTP API or upsertDocuments)', 1],
      ['folder', join(src, 'notes'), 1],
    ],
  );
  assert.equal(sum(facts.data.bySource.groups, 'chunks'), i.chunks);
  assert.ok(facts.data.ingested.first! <= facts.data.ingested.last!);

  const m = i.model;
  const embeddedWith = `${m.id}:${m.variant}@${m.weightsSha256.slice(0, 12)}`;
  assert.deepEqual(facts.data.lineage.embeddedWith.map((g) => [g.value, g.documents]), [[embeddedWith, i.documents]]);
  assert.deepEqual(facts.data.lineage.chunking.map((g) => [JSON.parse(g.value), g.documents]), [[{ chunkTokens: 64, overlapTokens: 8 }, i.documents]]);
  assert.equal(facts.data.lineage.consistent, true);

  assert.deepEqual(facts.model.identity, i.model);
  assert.equal(facts.model.check.status, 'passed', JSON.stringify(facts.model.check));
  assert.deepEqual(facts.chunking, i.chunking);
  const { vectors: _vectors, ...settings } = i.index;
  assert.deepEqual(facts.index.settings, settings);
  assert.deepEqual(facts.index.ann, i.ann);
  assert.deepEqual(facts.versions, await versions(opts()));
  assert.deepEqual(facts.generations, await listGenerations(opts()));

  // the same facts in the Markdown
  assert.match(markdown, /^# System card: collection `kb`$/m);
  assert.match(markdown, new RegExp(`^\\| documents \\| ${i.documents} \\|$`, 'm'));
  assert.match(markdown, new RegExp(`^\\| chunks \\| ${i.chunks} \\|$`, 'm'));
  assert.ok(markdown.includes(`| weights sha256 | \`${m.weightsSha256}\` |`));
  assert.ok(markdown.includes(`| dimensions | ${m.dims} |`));
  assert.match(markdown, /64 tokens per chunk, 8 tokens of overlap/);
  assert.match(markdown, /^\| type \| flat \|$/m);
  assert.match(markdown, /\*\*Fingerprint check: passed\.\*\*/);
  assert.match(markdown, /by quarry 0\.1\.0 from/);
  assert.ok(markdown.includes(`quarry card --data ${data} --collection kb`));
  for (const v of facts.versions) assert.match(markdown, new RegExp(`^\\| (\\*\\*)?${v.version}(\\*\\*)? .*\\| ${v.kind} \\| ${v.documents} \\| ${v.chunks} \\|`, 'm'));
  assert.match(markdown, /^\| \*\*1\*\* \(live\) \| live \|/m);

  // every alert in alerts.yml, with its threshold expression
  const names = await alertNames();
  assert.ok(names.length >= 7);
  assert.deepEqual(facts.alerts.rules.map((r) => r.name), names);
  for (const r of facts.alerts.rules) {
    assert.ok(r.severity && r.for && r.summary && r.expr, r.name);
    assert.ok(markdown.includes(`| ${r.name} | ${r.severity} | ${r.for} |`), r.name);
  }
  assert.ok(markdown.includes('quarry_eval_recall_at_100 / quarry_eval_recall_at_100_baseline < 0.95'));

  // limitations from the state, and the standing ones
  const fromState = facts.limitations.filter((l) => l.source === 'state').map((l) => l.text);
  assert.ok(fromState.some((t) => /No held-out judgments/.test(t)));
  assert.ok(fromState.some((t) => /No evaluation run/.test(t)));
  assert.ok(!fromState.some((t) => /fingerprint was not checked/.test(t)));
  for (const s of STANDING_LIMITATIONS) assert.ok(markdown.includes(`- ${s}`));
  assert.match(markdown, /quarry judgments set <BEIR folder or \.jsonl> --data \S+ --collection kb/);
});

test('the card follows the collection: a new document changes counts and versions', async () => {
  const before = (await systemCard(opts())).facts;
  await writeFile(join(src, 'notes', 'n1.txt'), 'Another note, about quinces.');
  await indexPaths([src], opts());
  const { facts, markdown } = await systemCard(opts());
  assert.equal(facts.data.documents, before.data.documents + 1);
  assert.equal(facts.versions.length, before.versions.length + 1);
  assert.equal(facts.version, before.version + 1);
  assert.equal(facts.data.bySource.groups.find((g) => g.value === join(src, 'notes'))?.documents, 2);
  assert.match(markdown, new RegExp(`^\\| documents \\| ${before.data.documents + 1} \\|$`, 'm'));
});

test('the model check: skipped on request, or not checked with the reason when the model cannot be loaded', async () => {
  const skipped = await systemCard({ ...opts(), verifyModel: false });
  assert.deepEqual(skipped.facts.model.check, { status: 'not checked', reason: 'skipped on request (--no-verify)' });
  assert.match(skipped.markdown, /\*\*Fingerprint check: not checked\.\*\* skipped on request/);
  // no embedder: the card tries to load test/hash-embedder from the models folder, which has no such model
  const unloadable = await systemCard({ dataDir: data, collection: C, modelsDir: join(dir.path, 'no-models') });
  assert.equal(unloadable.facts.model.check.status, 'not checked');
  assert.match((unloadable.facts.model.check as { reason: string }).reason, /could not be loaded here: .*hash-embedder/);
  assert.ok(unloadable.facts.limitations.some((l) => l.source === 'state' && /fingerprint was not checked/.test(l.text)));
});

test('the latest evaluation and the last promotion gate, with the commands that produced them', async () => {
  const run = (at: string, extra: Record<string, unknown> = {}): EvalHistoryEntry =>
    ({
      at,
      dataset: 'scifact',
      split: 'test',
      queries: 300,
      k: 10,
      model: 'some/other-model (fp32, weights sha256 000000000000)',
      documents: 9,
      chunks: 9,
      modes: [{ mode: 'hybrid', metrics: { 'ndcg@10': 0.7249, 'recall@100': 0.9577, 'mrr@10': 0.6889, 'p@10': 0.095 }, latencyMs: { p50: 7.8, p99: 15.8 } }],
      ...extra,
    }) as EvalHistoryEntry;
  await appendEvalHistory(data, C, run('2026-01-01T00:00:00.000Z', { job: '0123456789abcdef' }));
  let { facts, markdown } = await systemCard(opts());
  assert.equal(facts.evaluation.runs, 1);
  assert.equal(facts.evaluation.latest?.command, 'recorded by the HTTP evaluation API');
  assert.match(markdown, /Produced by: recorded by the HTTP evaluation API\./);
  assert.match(markdown, /^\| hybrid \| 0\.7249 \| 0\.9577 \| 0\.6889 \| 0\.0950 \| 7\.8 \| 15\.8 \|$/m);
  assert.ok(facts.limitations.some((l) => /latest evaluation measured some\/other-model/.test(l.text)));

  await appendEvalHistory(data, C, run('2026-02-01T00:00:00.000Z', { command: 'quarry eval --dataset scifact --collection kb' }));
  // a generation 2 that went through the gate (the deployment file as promote leaves it)
  const d = await listGenerations(opts());
  const g1 = d.generations[0];
  const gate = {
    at: '2026-02-02T00:00:00.000Z',
    mode: 'vector',
    queries: 50,
    tolerance: 0.005,
    live: { generation: 1, model: g1.model, 'ndcg@10': 0.61, 'recall@100': 0.9 },
    shadow: { generation: 2, model: 'BAAI/bge-small-en-v1.5 (fp32, weights sha256 111111111111)', 'ndcg@10': 0.64, 'recall@100': 0.92 },
    passed: true,
    forced: false,
  };
  const deployment: Deployment = {
    ...d,
    format: DEPLOYMENT_FORMAT,
    shadow: 2,
    nextGeneration: 3,
    generations: [g1, { ...g1, id: 2, dir: `${C}@g2`, state: 'shadow', model: gate.shadow.model, gate }],
  };
  await writeDeployment(data, deployment);
  ({ facts, markdown } = await systemCard(opts()));
  assert.equal(facts.evaluation.runs, 2);
  assert.equal(facts.evaluation.latest?.command, 'quarry eval --dataset scifact --collection kb');
  assert.match(markdown, /Produced by: `quarry eval --dataset scifact --collection kb`\./);
  assert.equal(facts.evaluation.gate?.generation, 2);
  assert.equal(facts.evaluation.gate?.command, `quarry promote --data ${data} --collection kb --mode vector --tolerance 0.5`);
  assert.match(markdown, /\*\*passed\*\*/);
  assert.match(markdown, /^\| shadow \| 2 \| BAAI\/bge-small-en-v1\.5 .*\| 0\.6400 \| 0\.9200 \|$/m);
  assert.match(markdown, /generation 2 is the shadow/);
  assert.equal(facts.generations.generations.length, 2);
});

test('quarry card writes the file; --json prints the facts; GET /collections/:name/card answers Markdown', async () => {
  const out = join(dir.path, 'card.md');
  const r = await runCli(['card', '--data', data, '--collection', C, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const text = await readFile(out, 'utf8');
  assert.match(text, /^# System card: collection `kb`/);
  // the CLI loads models from the models folder: the stand-in model is not there
  assert.match(text, /Fingerprint check: not checked\.\*\* the model could not be loaded here/);
  const j = await runCli(['card', '--data', data, '--collection', C, '--json', '--no-verify']);
  assert.equal(j.code, 0, j.stderr);
  const facts = JSON.parse(j.stdout);
  assert.equal(facts.data.documents, (await info(opts())).documents);
  const bad = await runCli(['card', '--data', data, '--collection', C, '--out', join(dir.path, 'no', 'such', 'card.md')]);
  assert.equal(bad.code, 2);
  const missing = await runCli(['card', '--data', data, '--collection', 'nope', '--no-verify']);
  assert.equal(missing.code, 3);

  const reader = await key(data, 'read', [C]);
  const app = await hashServer(data, embedder);
  await app.ready();
  try {
    const res = await app.inject({ method: 'GET', url: `/collections/${C}/card`, headers: bearer(reader) });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/markdown/);
    assert.match(res.body, /^# System card: collection `kb`/);
    assert.match(res.body, /\*\*Fingerprint check: passed\.\*\*/, 'the server checks with its own copy of the model');
    assert.ok(res.body.includes('`quarry card --data <data> --collection kb`'));
    assert.ok(!res.body.includes(data), "the server's own path");
    const none = await app.inject({ method: 'GET', url: '/collections/nope/card', headers: bearer(await key(data, 'read', ['*'])) });
    assert.equal(none.statusCode, 404);
  } finally {
    await app.close();
  }
});
