/**
 * The Prometheus rules in deploy/prometheus: valid (`promtool check rules`), unit-tested on
 * synthetic series (`promtool test rules`, every test group on its own so a failure names its
 * alert), guarded (loosening a threshold makes its group fail), and written against the metric
 * names quarry exports, so a renamed metric breaks the build instead of silencing an alert.
 *
 * promtool comes from Debian's `prometheus` package; .ci/run installs it. Without it these
 * tests fail (never skip) and say so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { metricsRegistry } from '../src/observe/metrics.js';
import { REPO_ROOT, tempDir } from './support/env.js';

const PROM_DIR = join(REPO_ROOT, 'deploy', 'prometheus');
const TEST_FILE = join(PROM_DIR, 'alerts.test.yml');

/** The metric names quarry exports (issue 5; src/observe/metrics.ts registers them), by type. */
const EXPORTED = {
  histogram: [
    'quarry_search_duration_seconds',
    'quarry_search_stage_duration_seconds',
    'quarry_search_top1_similarity',
    'quarry_search_results',
    'quarry_http_request_duration_seconds',
  ],
  counter: ['quarry_http_requests_total'],
  gauge: [
    'quarry_documents',
    'quarry_chunks',
    'quarry_vectors',
    'quarry_index_disk_bytes',
    'quarry_index_memory_bytes',
    'quarry_eval_ndcg_at_10',
    'quarry_eval_recall_at_100',
    'quarry_eval_ndcg_at_10_baseline',
    'quarry_eval_recall_at_100_baseline',
  ],
} as const;

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}
interface TestGroup {
  name?: string;
  alert_rule_test?: AlertTest[];
  [key: string]: unknown;
}
interface TestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: TestGroup[];
  [key: string]: unknown;
}

const testFile = parseYaml(readFileSync(TEST_FILE, 'utf8')) as TestFile;
/** Rule files, as the test file names them (relative to deploy/prometheus). */
const ruleFileNames = testFile.rule_files;
const ruleFiles = new Map(ruleFileNames.map((f) => [f, parseYaml(readFileSync(resolve(PROM_DIR, f), 'utf8')) as RuleFile]));
const allRules = [...ruleFiles.values()].flatMap((f) => f.groups.flatMap((g) => g.rules));
const alerts = allRules.filter((r) => r.alert !== undefined);
const records = new Set(allRules.flatMap((r) => (r.record !== undefined ? [r.record] : [])));

interface RunResult {
  code: number;
  output: string;
}

/** Runs promtool; a missing promtool is a failure with the way to install it, not a skip. */
function promtool(args: string[], cwd = REPO_ROOT): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('promtool', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error("promtool is not on PATH: install Debian's prometheus package (apt-get install -y --no-install-recommends prometheus); .ci/run installs it in CI"));
      } else reject(err);
    });
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir('quarry-alert-rules-');
});
after(async () => {
  await work?.cleanup();
});

/** Writes a test file holding one group of alerts.test.yml, against the given rule files. */
async function groupFile(group: TestGroup, ruleFilePaths: string[], name: string): Promise<string> {
  const { tests: _all, rule_files: _rules, ...rest } = testFile;
  const path = join(work.path, `${name}.test.yml`);
  await writeFile(path, stringifyYaml({ ...rest, rule_files: ruleFilePaths, tests: [group] }));
  return path;
}

test('promtool is installed', async () => {
  const r = await promtool(['--version']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /promtool, version \d+\.\d+/);
});

test('every rule file in deploy/prometheus is loaded by the unit tests', () => {
  const onDisk = readdirSync(PROM_DIR).filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f));
  assert.deepEqual([...onDisk].sort(), [...ruleFileNames].sort());
});

test('promtool check rules accepts every rule file and counts all its rules', async () => {
  const paths = ruleFileNames.map((f) => relative(REPO_ROOT, resolve(PROM_DIR, f)));
  const r = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', ...paths]);
  assert.equal(r.code, 0, r.output);
  for (const [name, file] of ruleFiles) {
    const path = relative(REPO_ROOT, resolve(PROM_DIR, name));
    const count = file.groups.reduce((n, g) => n + g.rules.length, 0);
    assert.ok(r.output.includes(`Checking ${path}\n  SUCCESS: ${count} rules found`), `${path}: expected ${count} rules\n${r.output}`);
  }
});

test('promtool test rules passes on alerts.test.yml as the README runs it', async () => {
  const r = await promtool(['test', 'rules', relative(REPO_ROOT, TEST_FILE)]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /SUCCESS/);
  assert.doesNotMatch(r.output, /FAILED/);
});

test('each alert has its own named test group, with a case that fires and one that must not', () => {
  const names = testFile.tests.map((g) => g.name);
  assert.equal(new Set(names).size, names.length, 'test group names are unique');
  for (const alert of alerts) {
    const group = testFile.tests.find((g) => g.name === alert.alert);
    assert.ok(group, `no test group named ${alert.alert}`);
    const cases = (group.alert_rule_test ?? []).filter((c) => c.alertname === alert.alert);
    const firing = cases.filter((c) => (c.exp_alerts ?? []).length > 0);
    assert.ok(firing.length > 0, `${alert.alert}: no case where it fires`);
    assert.ok(cases.some((c) => (c.exp_alerts ?? []).length === 0), `${alert.alert}: no case where it must not fire`);
    for (const c of firing) {
      for (const e of c.exp_alerts ?? []) {
        assert.equal(e.exp_labels?.severity, alert.labels?.severity, `${alert.alert} at ${c.eval_time}: severity`);
        assert.ok(e.exp_annotations?.summary && e.exp_annotations.description, `${alert.alert} at ${c.eval_time}: annotations are checked`);
      }
    }
  }
});

test('every test group passes on its own', { concurrency: true }, async (t) => {
  const rulePaths = ruleFileNames.map((f) => resolve(PROM_DIR, f));
  await Promise.all(
    testFile.tests.map((group, i) =>
      t.test(`${group.name ?? `group ${i}`} passed`, async () => {
        const r = await promtool(['test', 'rules', await groupFile(group, rulePaths, `group-${i}`)]);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /SUCCESS/);
      }),
    ),
  );
});

/**
 * Each alert's threshold loosened just enough for its must-not-fire case to fire: its group
 * must then fail, and promtool's report must name it. This is what proves the no-fire cases
 * sit on the near side of the thresholds rather than far away.
 */
const LOOSENED: Array<{ alert: string; edits: Array<[from: string, to: string]> }> = [
  { alert: 'QuarryRecallDrop', edits: [['/ quarry_eval_recall_at_100_baseline < 0.95', '/ quarry_eval_recall_at_100_baseline < 0.97']] },
  { alert: 'QuarryNdcgDrop', edits: [['/ quarry_eval_ndcg_at_10_baseline < 0.95', '/ quarry_eval_ndcg_at_10_baseline < 0.97']] },
  { alert: 'QuarrySearchLatencyP99High', edits: [[':p99_1d_baseline > 2', ':p99_1d_baseline > 1.4']] },
  // Both directions: +9% and -9% must each stay quiet.
  { alert: 'QuarryIndexSizeChange', edits: [['- 1 > 0.10', '- 1 > 0.08'], ['- 1 < -0.10', '- 1 < -0.08']] },
  { alert: 'QuarryTop1SimilarityShift', edits: [[':median_1h_1d_ago > 0.1', ':median_1h_1d_ago > 0.07'], [':median_1h_1d_ago < -0.1', ':median_1h_1d_ago < -0.07']] },
  { alert: 'QuarryDown', edits: [['up{job="quarry"} == 0', 'up{job=~"quarry|other"} == 0']] },
  { alert: 'QuarryHttp5xxRatioHigh', edits: [['[5m])) > 0.05', '[5m])) > 0.03']] },
];

test('loosening any alert threshold makes its test group fail, naming it', { concurrency: true }, async (t) => {
  assert.deepEqual(LOOSENED.map((m) => m.alert).sort(), alerts.map((a) => a.alert).sort(), 'one mutation per alert');
  await Promise.all(
    LOOSENED.map((m, i) =>
      t.test(m.alert, async () => {
        const dir = join(work.path, `loosened-${i}`);
        const rulePaths: string[] = [];
        await mkdir(dir);
        const texts = ruleFileNames.map((name) => readFileSync(resolve(PROM_DIR, name), 'utf8'));
        for (const [from, to] of m.edits) {
          assert.equal(texts.join('\n').split(from).length - 1, 1, `"${from}" occurs once in the rules`);
          texts.forEach((text, j) => (texts[j] = text.replace(from, to)));
        }
        for (const [j, name] of ruleFileNames.entries()) {
          const path = join(dir, name);
          await writeFile(path, texts[j]);
          rulePaths.push(path);
        }
        const group = testFile.tests.find((g) => g.name === m.alert);
        assert.ok(group);
        const r = await promtool(['test', 'rules', await groupFile(group, rulePaths, `loosened-${i}`)]);
        assert.notEqual(r.code, 0, `the loosened ${m.alert} still passed:\n${r.output}`);
        assert.match(r.output, new RegExp(`name: ${m.alert},[\\s\\S]*alertname: ${m.alert}`));
      }),
    ),
  );
});

test('every alert says how bad it is and what to do, after a while', () => {
  for (const a of alerts) {
    assert.match(a.for ?? '', /^\d+[smh]$/, `${a.alert}: for`);
    assert.ok(['critical', 'warning'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
    assert.ok((a.annotations?.summary ?? '').length > 20, `${a.alert}: summary`);
    assert.ok((a.annotations?.description ?? '').length > 100, `${a.alert}: description`);
  }
});

/** Metric names an expression reads: recorded series (level:metric:ops) and quarry_* metrics. */
function namesIn(expr: string): { recorded: string[]; metrics: string[] } {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""'); // label values are not names
  const tokens = code.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return {
    recorded: tokens.filter((tok) => tok.includes(':')),
    metrics: tokens.filter((tok) => !tok.includes(':') && /^quarry_[a-z0-9_]+$/.test(tok)),
  };
}

test('the rules read only metrics quarry exports, and only recorded series the rules define', () => {
  const histograms = new Set<string>(EXPORTED.histogram);
  const plain = new Set<string>([...EXPORTED.counter, ...EXPORTED.gauge]);
  const used = new Set<string>();
  for (const rule of allRules) {
    const what = rule.alert ?? rule.record;
    const { recorded, metrics } = namesIn(rule.expr);
    for (const r of recorded) assert.ok(records.has(r), `${what} reads ${r}, which no recording rule defines`);
    for (const m of metrics) {
      const suffix = /_(bucket|sum|count)$/.exec(m);
      const base = suffix ? m.slice(0, -suffix[0].length) : m;
      if (histograms.has(base)) {
        // A classic histogram has no series under its bare name.
        assert.ok(suffix, `${what} reads the histogram ${m} without _bucket/_sum/_count`);
      } else {
        assert.ok(plain.has(m), `${what} reads ${m}, which quarry does not export`);
      }
      used.add(base);
    }
  }
  // The check above must have had something to check.
  for (const m of ['quarry_search_duration_seconds', 'quarry_search_top1_similarity', 'quarry_index_disk_bytes', 'quarry_eval_recall_at_100_baseline']) {
    assert.ok(used.has(m), `${m} is read by some rule`);
  }
});

test('the metric name check catches a renamed metric', () => {
  const { metrics, recorded } = namesIn('sum by (le) (rate(quarry_search_latency_seconds_bucket{job="quarry_x"}[5m])) / on() x:quarry_y:z');
  assert.deepEqual(metrics, ['quarry_search_latency_seconds_bucket']);
  assert.deepEqual(recorded, ['x:quarry_y:z']);
});

test('the metric names the rules rely on are registered with those types', async () => {
  const registered = new Map((await metricsRegistry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
  for (const [type, names] of Object.entries(EXPORTED)) {
    for (const name of names) assert.equal(registered.get(name), type, `${name} is a ${type} in src/observe/metrics.ts`);
  }
});
