import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Panel, RowPanel } from '@grafana/schema';
import { chromium } from 'playwright-core';
import { dashboard } from '../deploy/grafana/dashboard.js';
import { QuarryClient } from '../src/client/index.js';
import { metricsRegistry } from '../src/observe/metrics.js';
import { REPO_ROOT, tempDir } from './support/env.js';
import { createKeyCli, startServe, type Served } from './support/serve.js';

const PROMETHEUS = '/usr/bin/prometheus';
const COLLECTION = 'docs';

type Target = { refId: string; expr: string };
const isPanel = (p: Panel | RowPanel): p is Panel => p.type !== 'row';
const dataPanels = (dashboard.panels ?? []).filter(isPanel);
const exprsOf = (p: Panel) => (p.targets as Target[]).map((t) => t.expr);

/**
 * Grafana's variables as the test fills them: one collection, and a rate window that covers
 * the whole run (the traffic may be over a minute old on a loaded machine by the time the
 * panels are queried; with a 1 m window every quantile then reads NaN).
 */
function substitute(expr: string): string {
  return expr.replaceAll('$collection', COLLECTION).replaceAll('$__rate_interval', '10m');
}

test('the committed quarry.json is the typed dashboard (deploy/grafana/dashboard.ts), and every panel is complete', async () => {
  const committed = JSON.parse(await readFile(join(REPO_ROOT, 'deploy', 'grafana', 'quarry.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(dashboard)), 'run `npm run dashboard` after changing dashboard.ts');
  const ids = (dashboard.panels ?? []).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  // every metric a query names is one quarry exports (or prom-client's process metrics, registered in the same registry)
  const known = new Set((await metricsRegistry.getMetricsAsJSON()).map((m) => m.name));
  for (const p of dataPanels) {
    assert.ok(p.title && p.title.length > 5, `panel ${p.id} has a title`);
    assert.ok(p.description, `${p.title}: a description`);
    assert.ok(p.fieldConfig?.defaults.unit, `${p.title}: a unit`);
    assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits the grid`);
    assert.ok((p.targets ?? []).length > 0, `${p.title}: queries`);
    for (const expr of exprsOf(p)) {
      for (const name of expr.match(/\b(quarry|process|nodejs)_[a-z0-9_]+/g) ?? []) {
        const base = name.replace(/_(bucket|count|sum)$/, '');
        assert.ok(known.has(base), `${p.title}: ${name} is a metric quarry exports`);
        const labelNames = (metricsRegistry.getSingleMetric(base) as unknown as { labelNames: string[] }).labelNames;
        if (labelNames.includes('collection') && !/group by \(instance, job\) \(quarry_documents\)/.test(expr)) assert.match(expr, /collection=~"\$collection"/, `${p.title}: ${base} is filtered by the collection variable`);
      }
    }
  }
  const vars = dashboard.templating?.list ?? [];
  assert.deepEqual(vars.map((v) => v.name), ['datasource', 'collection']);
  const provisioning = await readFile(join(REPO_ROOT, 'deploy', 'grafana', 'provisioning', 'dashboards', 'quarry.yml'), 'utf8');
  assert.match(provisioning, /type: file/);
});

// --- the live check --------------------------------------------------------------------------

let dir: { path: string; cleanup: () => Promise<void> };
let served: Served;
let prometheus: ChildProcess;
let promUrl: string;
let promLog = '';
let trafficStart = 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function promQuery(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data.result;
}

/** A tiny BEIR folder: six passages, three judged queries. */
async function writeDataset(root: string): Promise<void> {
  const d = join(root, 'mini');
  await mkdir(join(d, 'qrels'), { recursive: true });
  const corpus = [
    ['d1', 'Sourdough', 'Sourdough bread rises slowly because wild yeast ferments the dough overnight.'],
    ['d2', 'Tides', 'Ocean tides follow the gravitational pull of the moon and the sun.'],
    ['d3', 'Rust', 'The borrow checker in Rust enforces memory safety without a garbage collector.'],
    ['d4', 'Obsidian', 'Volcanic glass called obsidian forms when lava cools very quickly.'],
    ['d5', 'Bees', 'Honey bees communicate the direction of flowers with a waggle dance.'],
    ['d6', 'Glaciers', 'Glaciers carve valleys as the ice slowly flows downhill under its own weight.'],
  ];
  await writeFile(join(d, 'corpus.jsonl'), corpus.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join('\n') + '\n');
  const queries = [['q1', 'why does bread dough rise'], ['q2', 'what causes the tides'], ['q3', 'how do bees tell each other where flowers are']];
  await writeFile(join(d, 'queries.jsonl'), queries.map(([id, text]) => JSON.stringify({ _id: id, text })).join('\n') + '\n');
  await writeFile(join(d, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td5\t1\n');
}

before(async () => {
  dir = await tempDir('quarry-grafana-');
  const data = join(dir.path, 'data');
  const datasets = join(dir.path, 'datasets');
  await writeDataset(datasets);
  const key = await createKeyCli(data, 'admin');
  served = await startServe(['--data', data, '--datasets', datasets, '--canary', '1']);

  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = join(dir.path, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: quarry',
      '    metrics_path: /metrics',
      `    authorization: { type: Bearer, credentials: "${key}" }`,
      `    static_configs: [{ targets: ["${new URL(served.url).host}"] }]`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir.path, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout!.on('data', (d) => (promLog += d));
  prometheus.stderr!.on('data', (d) => (promLog += d));

  // traffic: an evaluation (which ingests its corpus and sets the gauges and baseline), an upsert,
  // a shadow generation for the canary, searches in every mode, an empty result, a 404
  trafficStart = Date.now() / 1000;
  const client = new QuarryClient({ baseUrl: served.url, key, timeoutMs: 60_000 });
  await client.createCollection({ name: COLLECTION });
  const job = await client.startEvaluation(COLLECTION, { dataset: 'mini', modes: ['bm25', 'vector', 'hybrid'], baseline: true });
  await client.waitForEvaluation(COLLECTION, job.id, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 1200)); // a scrape between the evaluation's ingest and this one
  await client.upsertDocuments(COLLECTION, [{ id: 'extra', text: 'Lighthouses warn ships away from rocks with a rotating beam of light.', metadata: { kind: 'note' } }]);
  const reindex = await fetch(`${served.url}/collections/${COLLECTION}/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ chunkTokens: 32, overlapTokens: 0 }),
  });
  assert.equal(reindex.status, 202, await reindex.text());
  for (const until = Date.now() + 60_000; ; ) {
    const g = (await (await fetch(`${served.url}/collections/${COLLECTION}/generations`, { headers: { authorization: `Bearer ${key}` } })).json()) as { reindex?: { status: string } };
    if (g.reindex?.status === 'done') break;
    assert.notEqual(g.reindex?.status, 'failed', JSON.stringify(g.reindex));
    assert.ok(Date.now() < until, 'the reindex finished');
    await new Promise((r) => setTimeout(r, 200));
  }
  // three rounds more than a scrape interval apart, so every histogram has increases inside its rate window
  for (let round = 0; round < 3; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, 1200));
    for (const mode of ['vector', 'bm25', 'hybrid'] as const) {
      for (const q of ['bread dough yeast', 'moon and tides', 'memory safety', 'light for ships']) await client.search(COLLECTION, q, { mode, k: 5 });
    }
  }
  assert.equal((await client.search(COLLECTION, 'quantum chromodynamics of gluons', { mode: 'vector', minScore: 0.99 })).results.length, 0);
  await client.search('missing', 'x').catch(() => undefined);

  for (const until = Date.now() + 30_000; ; ) {
    const ready = await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
    if (ready && (await promQuery('quarry_canary_queries_total')).length > 0 && (await promQuery('quarry_eval_ndcg_at_10_baseline')).length > 0) break;
    assert.ok(Date.now() < until, `Prometheus scraped quarry: ${promLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // two more scrapes after the last search, so every rate has its points
  await new Promise((r) => setTimeout(r, 2500));
});

after(async () => {
  prometheus?.kill('SIGTERM');
  await served?.stop();
  if (prometheus && prometheus.exitCode === null) await new Promise((r) => prometheus.once('close', r));
  await dir?.cleanup();
});

test("every panel's queries return data from a real Prometheus scraping a real quarry serve", async () => {
  const empty: string[] = [];
  for (const p of dataPanels) {
    for (const expr of exprsOf(p)) {
      const result = await promQuery(substitute(expr));
      const values = result.map((r) => Number(r.value[1])).filter((v) => Number.isFinite(v));
      if (values.length === 0) empty.push(`${p.title}: ${substitute(expr)} -> ${JSON.stringify(result)}`);
    }
  }
  assert.deepEqual(empty, [], 'queries without a finite value');
  // and the data is what was driven: the baseline is the evaluation's own score, the ingest counted the corpus
  const [ndcg] = await promQuery(`quarry_eval_ndcg_at_10{collection="${COLLECTION}"}`);
  const [base] = await promQuery(`quarry_eval_ndcg_at_10_baseline{collection="${COLLECTION}"}`);
  assert.equal(ndcg.value[1], base.value[1]);
  assert.ok(Number(ndcg.value[1]) > 0.5, `nDCG@10 on the tiny set: ${ndcg.value[1]}`);
  const [added] = await promQuery(`sum(quarry_ingest_documents_total{collection="${COLLECTION}", change="added"})`);
  assert.equal(Number(added.value[1]), 7, 'six corpus documents and one upsert');
  const [emptyRate] = await promQuery(substitute(exprsOf(dataPanels.find((p) => p.title === 'Empty-result rate')!)[0]));
  assert.ok(Number(emptyRate.value[1]) > 0 && Number(emptyRate.value[1]) < 1, `one empty search among many: ${emptyRate.value[1]}`);
});

/**
 * A picture of the panels with the data of this run: each panel's queries over the run, from
 * Prometheus's range API, drawn by uPlot in Debian's Chromium (not Grafana, which the tests do
 * not run; the titles, units and legends are the dashboard's). Written to
 * tests/.artifacts/screenshots/dashboard-panels.png; with QUARRY_UPDATE_SCREENSHOTS=1 also to
 * docs/images/, where docs/observability.md shows it.
 */
test('the panels drawn from the data Prometheus recorded in this run', async (t) => {
  const CHROMIUM = '/usr/bin/chromium';
  if (!existsSync(CHROMIUM)) throw new Error(`drawing the panels needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`);
  const end = Date.now() / 1000;
  const charts: Array<{ title: string; unit: string; series: Array<{ name: string; points: Array<[number, number]> }> }> = [];
  for (const p of dataPanels) {
    const series: Array<{ name: string; points: Array<[number, number]> }> = [];
    for (const target of p.targets as Array<Target & { legendFormat: string }>) {
      const q = new URLSearchParams({ query: substitute(target.expr), start: String(trafficStart - 2), end: String(end), step: '1' });
      const body = (await (await fetch(`${promUrl}/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
      for (const r of body.data.result) {
        const name = target.legendFormat.replace(/\{\{(\w+)\}\}/g, (_, l: string) => r.metric[l] ?? '');
        series.push({ name, points: r.values.map(([ts, v]) => [ts, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)) });
      }
    }
    charts.push({ title: p.title!, unit: String(p.fieldConfig?.defaults.unit), series: series.filter((x) => x.points.length > 0).slice(0, 8) });
  }
  assert.ok(charts.every((c) => c.series.length > 0), `every panel has a series to draw: ${charts.filter((c) => c.series.length === 0).map((c) => c.title)}`);
  const uplot = await readFile(join(REPO_ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'), 'utf8');
  const css = await readFile(join(REPO_ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8');
  const html = `<!doctype html><html><head><style>${css}
    body { font: 12px sans-serif; margin: 8px; background: #111217; color: #ccccdc; }
    #grid { display: grid; grid-template-columns: repeat(3, 420px); gap: 8px; }
    .panel { background: #181b1f; border: 1px solid #2c3235; padding: 6px; }
    .panel h3 { margin: 0 0 4px; font-size: 12px; font-weight: 600; }
    .u-legend { font-size: 10px; color: #ccccdc; } .u-axis { color: #ccccdc; }
    </style></head><body><div id="grid"></div><script>${uplot}</script><script>
    const charts = ${JSON.stringify(charts)};
    // axis labels in the panel's unit, as Grafana would print them
    const fmt = (unit) => (u, vals) => vals.map((v) => v == null ? '' :
      unit === 'bytes' ? (v / 1048576).toFixed(2) + ' MiB' :
      unit === 'percentunit' ? (v * 100).toFixed(0) + '%' :
      unit === 's' ? (v * 1000).toFixed(0) + ' ms' :
      unit === 'reqps' || unit === 'ops' ? v.toFixed(2) + '/s' : String(+v.toFixed(3)));
    const colors = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#fade2a'];
    for (const c of charts) {
      const div = document.createElement('div'); div.className = 'panel';
      div.innerHTML = '<h3></h3>'; div.querySelector('h3').textContent = c.title + ' (' + c.unit + ')';
      document.getElementById('grid').appendChild(div);
      const xs = [...new Set(c.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
      const data = [xs, ...c.series.map((s) => { const m = new Map(s.points); return xs.map((x) => m.has(x) ? m.get(x) : null); })];
      new uPlot({ width: 400, height: 170, series: [{}, ...c.series.map((s, i) => ({ label: s.name, stroke: colors[i % colors.length], width: 1.5, spanGaps: true }))], legend: { live: false }, axes: [{ stroke: '#ccccdc', grid: { stroke: '#2c3235' } }, { stroke: '#ccccdc', grid: { stroke: '#2c3235' }, size: 80, values: fmt(c.unit) }] }, data, div);
    }
    window.drawn = document.querySelectorAll('.uplot').length;
  </script></body></html>`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  await page.setContent(html);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { drawn: number }).drawn), charts.length, 'every panel was drawn');
  const shots = join(REPO_ROOT, 'tests', '.artifacts', 'screenshots');
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: join(shots, 'dashboard-panels.png'), fullPage: true });
  if (process.env.QUARRY_UPDATE_SCREENSHOTS === '1') await copyFile(join(shots, 'dashboard-panels.png'), join(REPO_ROOT, 'docs', 'images', 'dashboard-panels.png'));
});

