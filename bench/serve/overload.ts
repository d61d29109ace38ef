/**
 * The overload phase of `npm run bench:serve` (issue 14), also `npm run bench:overload` alone.
 *
 * Hybrid searches over SciFact, open loop (request i is due at i / rate whatever happened to
 * the ones before; latency counts from when it was due):
 *   capacity: autocannon with 2 connections (closed loop: one search runs while the other
 *             waits, so the server never idles and sheds nothing) for BENCH_OVERLOAD_SECONDS
 *             (10) s; the searches answered per second is the capacity C
 *   half:     C / 2 req/s, evenly spaced
 *   overload: 2.5 x C req/s, evenly spaced
 * For each: the share of searches shed (429), p50/p99 of those answered 200, p99 of the time
 * to a 429, and requests without an answer (client timeout 30 s). The goal: under overload,
 * answered p99 within 2x of p99 at half load, and no client timeouts.
 *
 * Writes bench/results/serve-overload.json and the bench:overload section of BENCHMARKS.md.
 */
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, writeMarkedSection } from '../support.js';
import { loadQueries } from './fuzz.js';
import { bearer, dataDirOf, log, metricSum, requireScifact, scrape, SCIFACT, send, startServer, type ServerHandle } from './server.js';

const TAG = 'bench:overload';
const RESULTS = join(REPO_ROOT, 'bench', 'results', 'serve-overload.json');
const SECONDS = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 10);
const MODE = 'hybrid';
const K = 10;

export interface OverloadPhase {
  name: 'capacity' | 'half' | 'overload';
  offeredPerSecond: number | null;
  seconds: number;
  sent: number;
  answered: number;
  shed: number;
  shedShare: number;
  otherStatus: number;
  noAnswer: number;
  answeredPerSecond: number;
  /** of the searches answered 200, from when each was due */
  p50: number;
  p99: number;
  max: number;
  /** time to a 429 */
  shedP99: number;
  /** growth of quarry_search_queue_wait_seconds sum / count over the phase */
  serverQueueWaitMeanMs: number;
}

export interface OverloadReport {
  startedAt: string;
  machine: { cpuModel: string; cpus: number; node: string };
  loadAverage: { before: number[]; after: number[] };
  /** the collection searched (BENCH_SERVE_DATA may hold a smaller one than the full SciFact) */
  collection: { documents: number; chunks: number };
  capacity: number;
  phases: OverloadPhase[];
  goal: { p99Ratio: number; withinTwice: boolean; noTimeouts: boolean };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : r1(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
}

async function paced(base: string, key: string, bodies: () => string, rate: number, seconds: number): Promise<Omit<OverloadPhase, 'name' | 'serverQueueWaitMeanMs'>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const n = Math.round(seconds * rate);
  const ok: number[] = [];
  const shed: number[] = [];
  let otherStatus = 0;
  let noAnswer = 0;
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      send(base, { method: 'POST', path: `/collections/${SCIFACT}/search`, agent, timeoutMs: 30_000, headers: { 'content-type': 'application/json', ...bearer(key) }, body: bodies() }).then((r) => {
        const ms = performance.now() - due;
        if (r.status === 200) ok.push(ms);
        else if (r.status === 429) shed.push(ms);
        else if (r.status === 0) noAnswer++;
        else otherStatus++;
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  ok.sort((a, b) => a - b);
  shed.sort((a, b) => a - b);
  return {
    offeredPerSecond: rate,
    seconds,
    sent: n,
    answered: ok.length,
    shed: shed.length,
    shedShare: Math.round((shed.length / n) * 1000) / 1000,
    otherStatus,
    noAnswer,
    answeredPerSecond: r1(ok.length / seconds),
    p50: pct(ok, 0.5),
    p99: pct(ok, 0.99),
    max: r1(ok[ok.length - 1] ?? NaN),
    shedP99: pct(shed, 0.99),
  };
}

async function queueWait(base: string, key: string): Promise<[number, number]> {
  const m = await scrape(base, key);
  return [metricSum(m, 'quarry_search_queue_wait_seconds_sum'), metricSum(m, 'quarry_search_queue_wait_seconds_count')];
}

/** The three phases against a running server; `key` may search SciFact and read /metrics (admin). */
export async function runOverload(server: ServerHandle, key: string, queries: string[]): Promise<OverloadReport> {
  const info = await send(server.base, { method: 'GET', path: `/collections/${SCIFACT}`, headers: bearer(key) });
  if (info.status !== 200) throw new Error(`GET /collections/${SCIFACT}: ${info.status} ${info.body.slice(0, 200)}`);
  const { documents, chunks } = JSON.parse(info.body) as { documents: number; chunks: number };
  const loadBefore = loadavg();
  const startedAt = new Date().toISOString();
  let next = Math.floor(Math.random() * queries.length);
  const bodies = () => JSON.stringify({ query: queries[next++ % queries.length], k: K, mode: MODE });
  const phases: OverloadPhase[] = [];
  const measured = async (name: OverloadPhase['name'], run: () => Promise<Omit<OverloadPhase, 'name' | 'serverQueueWaitMeanMs'>>) => {
    const [s0, c0] = await queueWait(server.base, key);
    const p = await run();
    await new Promise((r) => setTimeout(r, 1000));
    const [s1, c1] = await queueWait(server.base, key);
    const phase: OverloadPhase = { name, ...p, serverQueueWaitMeanMs: r1(((s1 - s0) / Math.max(1, c1 - c0)) * 1000) };
    phases.push(phase);
    log(
      TAG,
      `${name}: offered ${phase.offeredPerSecond ?? 'closed loop'} req/s, answered ${phase.answeredPerSecond}/s, shed ${(phase.shedShare * 100).toFixed(1)}%, ` +
        `p50 ${phase.p50} ms, p99 ${phase.p99} ms, max ${phase.max} ms, 429 p99 ${phase.shedP99} ms, no answer ${phase.noAnswer}, other ${phase.otherStatus}, server queue wait mean ${phase.serverQueueWaitMeanMs} ms`,
    );
    return phase;
  };

  const connections = 2;
  const cap = await measured('capacity', async () => {
    const res = await autocannon({
      url: `${server.base}/collections/${SCIFACT}/search`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(key) },
      connections,
      duration: SECONDS,
      timeout: 30,
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies() }) }],
    });
    const sent = res.requests.sent ?? res['2xx'] + res.non2xx;
    return {
      offeredPerSecond: null,
      seconds: res.duration,
      sent,
      answered: res['2xx'],
      shed: res.non2xx,
      shedShare: Math.round((res.non2xx / Math.max(1, sent)) * 1000) / 1000,
      otherStatus: 0,
      noAnswer: res.timeouts + res.errors,
      answeredPerSecond: r1(res['2xx'] / res.duration),
      p50: res.latency.p50,
      p99: res.latency.p99,
      max: res.latency.max,
      shedP99: NaN,
    };
  });
  const capacity = cap.answeredPerSecond;
  const half = await measured('half', () => paced(server.base, key, bodies, r1(capacity / 2), SECONDS));
  const over = await measured('overload', () => paced(server.base, key, bodies, r1(capacity * 2.5), SECONDS));
  const p99Ratio = Math.round((over.p99 / half.p99) * 100) / 100;
  return {
    startedAt,
    machine: { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cpus: cpus().length, node: process.versions.node },
    loadAverage: { before: loadBefore, after: loadavg() },
    collection: { documents, chunks },
    capacity,
    phases,
    goal: { p99Ratio, withinTwice: p99Ratio <= 2, noTimeouts: phases.every((p) => p.noAnswer === 0) },
  };
}

export function overloadMarkdown(r: OverloadReport, command: string): string {
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const lines = [
    '## Overload: admission control',
    '',
    `Command: \`${command}\` (results: \`bench/results/serve-overload.json\`), run ${r.startedAt}. Machine: ${r.machine.cpuModel}, ${r.machine.cpus} cores, Node ${r.machine.node}; ` +
      `load average (1/5/15 min) ${fmt(r.loadAverage.before)} before, ${fmt(r.loadAverage.after)} after (a shared machine: the load generator, the server and other work share the cores).`,
    '',
    `\`quarry serve\` with its default bounds (one search at a time; a search that would wait longer than the mean search time, at least 20 ms, or find 8 per core waiting, is answered 429 at once). ` +
      `Hybrid searches over the \`${SCIFACT}\` collection (${r.collection.documents} documents, ${r.collection.chunks} chunks; all-MiniLM-L6-v2, flat index; k ${K}), each a different one of the SciFact queries. **capacity**: autocannon, 2 connections, closed loop (one search runs while the other waits); its answered rate is C = ${r.capacity} req/s. ` +
      '**half**: C/2 req/s, **overload**: 2.5 C req/s, both open loop and evenly spaced, latency counted from when each request was due. Client timeout 30 s.',
    '',
    '| phase | offered req/s | answered req/s | shed (429) | p50 ms | p99 ms | max ms | 429 p99 ms | no answer | server queue wait mean ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.phases.map(
      (p) =>
        `| ${p.name} | ${p.offeredPerSecond ?? 'closed loop'} | ${p.answeredPerSecond} | ${(p.shedShare * 100).toFixed(1)}% | ${p.p50} | ${p.p99} | ${p.max} | ${Number.isNaN(p.shedP99) ? '–' : p.shedP99} | ${p.noAnswer} | ${p.serverQueueWaitMeanMs} |`,
    ),
    '',
    `Goal (issue 14): answered p99 under overload within 2x of p99 at half load: ratio **${r.goal.p99Ratio}** (${r.goal.withinTwice ? 'met' : '**not met**'}); ` +
      `no client timeouts: ${r.goal.noTimeouts ? 'met' : '**not met**'}.`,
    '',
  ];
  return lines.join('\n');
}

export function writeOverload(r: OverloadReport, command: string): void {
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(r, null, 2) + '\n');
  writeMarkedSection(join(REPO_ROOT, 'BENCHMARKS.md'), 'bench:overload', overloadMarkdown(r, command));
}

async function main(): Promise<void> {
  const dataDir = dataDirOf();
  requireScifact(dataDir);
  const server = await startServer(dataDir, TAG);
  let report: OverloadReport | undefined;
  try {
    const key = await server.key('admin', [SCIFACT], 'bench:overload');
    // warm-up, not recorded
    const queries = loadQueries();
    for (let i = 0; i < 50; i++) await send(server.base, { method: 'POST', path: `/collections/${SCIFACT}/search`, headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify({ query: queries[i], k: K, mode: MODE }) });
    report = await runOverload(server, key, queries);
  } finally {
    const exit = await server.stop();
    log(TAG, `server stopped: exit code ${exit.code}`);
  }
  writeOverload(report, 'npm run bench:overload');
  log(TAG, `wrote ${RESULTS} and the bench:overload section of BENCHMARKS.md`);
  if (!report.goal.withinTwice || !report.goal.noTimeouts) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
