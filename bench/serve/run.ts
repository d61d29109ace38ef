/**
 * npm run bench:serve — the HTTP service under load, then the bounded fuzz run.
 *
 * Starts `quarry serve` (a child process, 127.0.0.1, any free port, a fresh keys file) over
 * the SciFact collection that `quarry eval` builds (.quarry/beir-scifact, 10,246 chunks),
 * waits for /readyz 200, then sends POST /collections/beir-scifact/search, rotating through the
 * 1,109 real SciFact queries, in vector and hybrid mode, under three loads:
 *   paced: BENCH_SERVE_RATE req/s (20), evenly spaced, open loop (latency from the time each
 *          request was due; our own scheduler, since autocannon cannot space requests)
 *   burst: the same rate through autocannon's overallRate over BENCH_SERVE_RATE_CONNECTIONS
 *          connections (4): each connection spends its per-second budget back to back
 *   full:  autocannon with BENCH_SERVE_CONNECTIONS connections (10), as fast as it answers
 * each for BENCH_SERVE_SECONDS (10) seconds, BENCH_SERVE_ROUNDS (3) rounds with the six
 * phases interleaved so drift in machine load hits them alike; the table gives the median
 * over rounds. After each phase /metrics must show the search histogram count grown by the
 * number of searches answered. Full speed saturates the server, whose admission control then
 * sheds searches with 429: counted apart, and allowed there only. Then the overload phase
 * (overload.ts; BENCH_SERVE_OVERLOAD=0 skips it) and the fuzz run (fuzz.ts; BENCH_SERVE_FUZZ=0
 * skips it).
 *
 * Writes bench/results/serve.json (and serve-overload.json, fuzz.json) and the bench:serve
 * (and bench:overload) sections of BENCHMARKS.md.
 */
import autocannon, { type Result } from 'autocannon';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { median, REPO_ROOT, writeMarkedSection } from '../support.js';
import { FUZZ_RESULTS, loadQueries, runFuzz, type FuzzReport } from './fuzz.js';
import { runOverload, writeOverload, type OverloadReport } from './overload.js';
import { CATEGORY_WEIGHTS } from './fuzz-cases.js';
import { bearer, dataDirOf, log, metricSum, requireScifact, scrape, SCIFACT, send, startServer } from './server.js';

const TAG = 'bench:serve';
const RESULTS = join(REPO_ROOT, 'bench', 'results', 'serve.json');
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_SERVE_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_SERVE_RATE ?? 20);
const RATE_CONNECTIONS = Number(process.env.BENCH_SERVE_RATE_CONNECTIONS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_SERVE_CONNECTIONS ?? 10);
const K = 10;
const MODES = ['vector', 'hybrid'] as const;
type Mode = (typeof MODES)[number];
/** paced: RATE req/s evenly spaced (open loop); burst: autocannon's RATE req/s; full: autocannon as fast as it goes */
type Load = 'paced' | 'burst' | 'full';
const LOADS: Load[] = ['paced', 'burst', 'full'];

interface PhaseRun {
  round: number;
  mode: Mode;
  load: Load;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  sent: number;
  answered: number;
  status2xx: number;
  non2xx: number;
  /** answered 429 by admission control (full speed only) */
  shed: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** growth of quarry_search_duration_seconds_count{collection, mode} over the phase */
  searchHistogramDelta: number;
  /** growth of quarry_http_requests_total{route search, status 200} */
  httpOkDelta: number;
  /** server-side mean search time over the phase (histogram sum / count) */
  serverMeanMs: number;
  metricsConsistent: boolean;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** What one phase measured on the client side, whichever tool drove it. */
interface Driven {
  seconds: number;
  latencyMs: PhaseRun['latencyMs'];
  sent: number;
  status2xx: number;
  non2xx: number;
  shed: number;
  errors: number;
  timeouts: number;
  mismatches: number;
}

const hasResults = (b: string) => b.includes('"results":[{');

/** autocannon: `connections` closed-loop connections, optionally limited to RATE req/s overall. */
async function driveAutocannon(base: string, key: string, bodies: () => string, load: 'burst' | 'full', seconds: number): Promise<Driven> {
  const res: Result = await autocannon({
    url: `${base}/collections/${SCIFACT}/search`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    connections: load === 'burst' ? RATE_CONNECTIONS : CONNECTIONS,
    // autocannon 8.0.0's coordinated-omission correction passes ceil(1 / per-connection rate)
    // = 1 ms as the expected interval, so a 17 ms answer is recorded as 17 samples of 17, 16,
    // ..., 1 ms: it corrupts the percentiles instead of correcting them. Off.
    ...(load === 'burst' ? { overallRate: RATE, ignoreCoordinatedOmission: true } : {}),
    duration: seconds,
    timeout: 30,
    // a different real query each time, in order, shared by every connection
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies() }) }],
    // an answer with at least one result, not just any 200
    verifyBody: hasResults,
  });
  return {
    seconds: res.duration,
    latencyMs: { p50: res.latency.p50, p90: res.latency.p90, p99: res.latency.p99, max: res.latency.max, mean: res.latency.mean },
    sent: res.requests.sent ?? res['2xx'] + res.non2xx,
    status2xx: res['2xx'],
    non2xx: res.non2xx - Number(res.statusCodeStats?.['429']?.count ?? 0),
    shed: Number(res.statusCodeStats?.['429']?.count ?? 0),
    errors: res.errors,
    timeouts: res.timeouts,
    mismatches: res.mismatches,
  };
}

/**
 * Open loop at RATE req/s, evenly spaced: request i is due at t0 + i / RATE whatever happened
 * to the ones before, and its latency counts from when it was due (so a client that falls
 * behind is charged for it: no coordinated omission). autocannon cannot do this: its rate
 * limit is a budget per connection per second, spent back to back at the start of each
 * second, which turns 20 req/s over 4 connections into bursts of 4 concurrent requests.
 */
async function drivePaced(base: string, key: string, bodies: () => string, seconds: number): Promise<Driven> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const interval = 1000 / RATE;
  const n = Math.round(seconds * RATE);
  const latencies: number[] = [];
  const out = { status2xx: 0, non2xx: 0, shed: 0, errors: 0, mismatches: 0 };
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      send(base, { method: 'POST', path: `/collections/${SCIFACT}/search`, agent, headers: { 'content-type': 'application/json', ...bearer(key) }, body: bodies() }).then((r) => {
        if (r.status === 0) out.errors++;
        else if (r.status >= 200 && r.status < 300) {
          out.status2xx++;
          latencies.push(performance.now() - due);
          if (!hasResults(r.body)) out.mismatches++;
        } else if (r.status === 429) out.shed++;
        else out.non2xx++;
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const at = (p: number) => r1(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
  return {
    // the schedule's length (n / RATE); the last answers may come a little after it
    seconds: n / RATE,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: r1(sorted[sorted.length - 1] ?? NaN), mean: r1(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) },
    sent: n,
    ...out,
    timeouts: 0,
  };
}

async function phase(base: string, key: string, metricsKey: string, queries: string[], mode: Mode, load: Load, round: number, seconds: number): Promise<PhaseRun> {
  let next = Math.floor(Math.random() * queries.length);
  const bodies = () => JSON.stringify({ query: queries[next++ % queries.length], k: K, mode });
  const before = await scrape(base, metricsKey);
  const d = load === 'paced' ? await drivePaced(base, key, bodies, seconds) : await driveAutocannon(base, key, bodies, load, seconds);
  // let searches cut off by the end of the phase finish before reading the counters
  await new Promise((r) => setTimeout(r, 1000));
  const after = await scrape(base, metricsKey);
  const labels = { collection: SCIFACT, mode };
  const searchHistogramDelta = metricSum(after, 'quarry_search_duration_seconds_count', labels) - metricSum(before, 'quarry_search_duration_seconds_count', labels);
  const sumDelta = metricSum(after, 'quarry_search_duration_seconds_sum', labels) - metricSum(before, 'quarry_search_duration_seconds_sum', labels);
  const httpLabels = { route: '/collections/:name/search', method: 'POST', status: '200' };
  const httpOkDelta = metricSum(after, 'quarry_http_requests_total', httpLabels) - metricSum(before, 'quarry_http_requests_total', httpLabels);
  // every search answered 200 is counted; a few more may have finished after autocannon stopped listening
  const metricsConsistent = searchHistogramDelta >= d.status2xx && searchHistogramDelta <= d.sent && httpOkDelta === searchHistogramDelta;
  const run: PhaseRun = {
    round,
    mode,
    load,
    seconds: d.seconds,
    requestsPerSecond: round3(d.status2xx / d.seconds),
    latencyMs: d.latencyMs,
    sent: d.sent,
    answered: d.status2xx + d.non2xx + d.shed,
    status2xx: d.status2xx,
    non2xx: d.non2xx,
    shed: d.shed,
    errors: d.errors,
    timeouts: d.timeouts,
    mismatches: d.mismatches,
    searchHistogramDelta,
    httpOkDelta,
    serverMeanMs: round3((sumDelta / Math.max(1, searchHistogramDelta)) * 1000),
    metricsConsistent,
  };
  log(
    TAG,
    `round ${round} ${mode} ${load}: ${run.requestsPerSecond} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, 2xx ${run.status2xx}, 429 ${run.shed}, other non-2xx ${run.non2xx}, errors ${run.errors}, ` +
      `mismatches ${run.mismatches}; /metrics search count +${searchHistogramDelta} (http 200 +${httpOkDelta}) ${metricsConsistent ? 'consistent' : 'INCONSISTENT'}`,
  );
  return run;
}

interface Summary {
  mode: Mode;
  load: Load;
  connections: number;
  targetRate: number | null;
  rounds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  serverMeanMs: number;
  requests: number;
  non2xx: number;
  shed: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  metricsConsistent: boolean;
}

function summarize(runs: PhaseRun[]): Summary[] {
  const out: Summary[] = [];
  for (const load of LOADS) {
    for (const mode of MODES) {
      const rs = runs.filter((r) => r.mode === mode && r.load === load);
      out.push({
        mode,
        load,
        connections: load === 'paced' ? 0 : load === 'burst' ? RATE_CONNECTIONS : CONNECTIONS,
        targetRate: load === 'full' ? null : RATE,
        rounds: rs.length,
        requestsPerSecond: round3(median(rs.map((r) => r.requestsPerSecond))),
        p50: median(rs.map((r) => r.latencyMs.p50)),
        p99: median(rs.map((r) => r.latencyMs.p99)),
        serverMeanMs: round3(median(rs.map((r) => r.serverMeanMs))),
        requests: rs.reduce((s, r) => s + r.answered, 0),
        non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
        shed: rs.reduce((s, r) => s + r.shed, 0),
        errors: rs.reduce((s, r) => s + r.errors, 0),
        timeouts: rs.reduce((s, r) => s + r.timeouts, 0),
        mismatches: rs.reduce((s, r) => s + r.mismatches, 0),
        metricsConsistent: rs.every((r) => r.metricsConsistent),
      });
    }
  }
  return out;
}

function loadLabel(s: Summary): string {
  if (s.load === 'paced') return `${s.targetRate} req/s, evenly spaced`;
  if (s.load === 'burst') return `${s.targetRate} req/s, autocannon (${s.connections} conn.)`;
  return `full speed, autocannon (${s.connections} conn.)`;
}

function printTable(summary: Summary[]): void {
  const rows = summary.map((s) =>
    [s.mode.padEnd(7), loadLabel(s).padEnd(36), s.requestsPerSecond.toFixed(1).padStart(8), String(s.p50).padStart(7), String(s.p99).padStart(7), s.serverMeanMs.toFixed(1).padStart(9), String(s.requests).padStart(6), String(s.shed).padStart(6), String(s.non2xx).padStart(6), String(s.errors).padStart(6), s.metricsConsistent ? '   ok' : ' FAIL'].join(' '),
  );
  process.stdout.write(
    [`${'mode'.padEnd(7)} ${'load'.padEnd(36)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'server ms'.padStart(9)} ${'reqs'.padStart(6)} ${'429'.padStart(6)} ${'non2xx'.padStart(6)} ${'errors'.padStart(6)} metrics`, ...rows].join('\n') + '\n',
  );
}

// --- BENCHMARKS.md -------------------------------------------------------------------------------

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' / ');
}

function markdown(report: ServeReport, fuzz: FuzzReport | undefined): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push('## Service: `npm run bench:serve`');
  lines.push('');
  lines.push(
    `Command: \`npm run bench:serve\` (results: \`bench/results/serve.json\`${fuzz ? ', `bench/results/fuzz.json`' : ''}), run ${report.startedAt} – ${report.finishedAt}. ` +
      `Machine: ${m.cpuModel}, ${m.cpus} cores, ${m.memGiB} GiB RAM, Node ${m.node}; load average (1/5/15 min) ${fmtLoad(report.loadAverage.before)} before, ${fmtLoad(report.loadAverage.after)} after ` +
      '(a shared machine: the load generator, the server and whatever else runs share the two cores).',
  );
  lines.push('');
  lines.push(
    `\`quarry serve\` runs as a child process on 127.0.0.1 over the SciFact collection \`quarry eval\` builds (${report.collection.documents} documents, ${report.collection.chunks} chunks, ` +
      `all-MiniLM-L6-v2 fp32, flat index), with a fresh read key; ready (/readyz 200) ${(report.readyMs / 1000).toFixed(1)} s after the spawn. Every request is ` +
      `\`POST /collections/beir-scifact/search\` with \`{"query", "k": ${K}, "mode"}\`, a different one of the ${report.queries} SciFact queries each time; every answer must hold at least one result. ` +
      `Three loads: **${RATE} req/s evenly spaced** (open loop, our own scheduler: request i is due at i/${RATE} s and its latency counts from then, so a client that falls behind is charged for it); ` +
      `**${RATE} req/s through autocannon** (${report.autocannon}, \`overallRate\` over ${RATE_CONNECTIONS} connections: autocannon spends each connection's per-second budget back to back at the start of every second, so the same rate arrives as bursts of ${RATE_CONNECTIONS} concurrent requests; its coordinated-omission correction is off because 8.0.0 applies it with a 1 ms interval whatever the rate, which corrupts the percentiles); ` +
      `and **full speed** (autocannon, ${CONNECTIONS} connections, each sending its next request when the last is answered). ` +
      `Each phase runs ${SECONDS} s, ${ROUNDS} rounds with the six phases interleaved, after a few seconds of warm-up; the table gives the median over rounds of requests/s answered 200 and of p50 and p99 latency as the client saw it, ` +
      'and the mean search time the server measured over the phase (`quarry_search_duration_seconds` sum / count, from the start of the handler to the answer object: no HTTP, body parsing, validation or serialization); requests, shed, non-2xx and errors are totals. At full speed the server is saturated and its admission control sheds searches with 429 (see the overload section below); at the paced and burst loads none may be shed.',
  );
  lines.push('');
  lines.push('| mode | load | req/s | p50 ms | p99 ms | server mean ms | requests | shed (429) | other non-2xx | errors | /metrics count matches |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of report.summary) {
    lines.push(`| ${s.mode} | ${loadLabel(s)} | ${s.requestsPerSecond.toFixed(1)} | ${s.p50} | ${s.p99} | ${s.serverMeanMs.toFixed(1)} | ${s.requests} | ${s.shed} | ${s.non2xx} | ${s.errors + s.timeouts} | ${s.metricsConsistent ? 'yes' : '**no**'} |`);
  }
  lines.push('');
  lines.push(
    `After every phase \`quarry_search_duration_seconds_count{collection="beir-scifact",mode}\` grew by at least the searches answered 200 and at most those sent, and \`quarry_http_requests_total\` for the search route and status 200 by the same amount: ${report.summary.every((s) => s.metricsConsistent) ? '**held in every phase**' : '**did not hold** (see serve.json)'}. ` +
      `Server RSS after the load: ${report.rssMiB} MiB. On SIGTERM at the end the server exited with code ${report.serverExit?.code ?? 'none'}${report.serverExit?.signal ? ` (signal ${report.serverExit.signal})` : ''}.`,
  );
  if (fuzz) {
    lines.push('');
    lines.push(`### Fuzz: ${fuzz.requests.toLocaleString('en-US')} malformed or hostile requests`);
    lines.push('');
    const cls = (k: string) => (fuzz.byClass[k] ?? 0).toLocaleString('en-US');
    lines.push(
      `Seed ${fuzz.seed}, ${fuzz.concurrency} requests in flight, ${fuzz.seconds.toFixed(1)} s on the same server right after the load phases (\`npm run bench:fuzz\` runs it alone). ` +
        `Answers: **${cls('4xx')} 4xx, ${cls('2xx')} 2xx, ${cls('5xx')} 5xx, ${cls('no answer')} without an answer**. ` +
        'A hostile request must get a 4xx; the valid ones interleaved must get a 2xx; "either" are legal but odd requests (a NUL in the query, k = 1000, a filter on a field named `constructor`) that may get 2xx or 4xx but never a 5xx. ' +
        `Status codes: ${Object.entries(fuzz.byStatus).sort().map(([s, n]) => `${s === '0' ? 'none' : s} ×${n}`).join(', ')}.`,
    );
    lines.push('');
    lines.push('| category | requests | expected 4xx / 2xx / either | 2xx | 4xx | 5xx | no answer | failures |');
    lines.push('|---|---:|---|---:|---:|---:|---:|---:|');
    for (const cat of Object.keys(CATEGORY_WEIGHTS)) {
      const c = fuzz.byCategory[cat];
      if (!c) continue;
      lines.push(
        `| ${cat} | ${c.requests} | ${c.expect.reject ?? 0} / ${c.expect.accept ?? 0} / ${c.expect.either ?? 0} | ${c.classes['2xx'] ?? 0} | ${c.classes['4xx'] ?? 0} | ${c.classes['5xx'] ?? 0} | ${c.classes['no answer'] ?? 0} | ${c.failures} |`,
      );
    }
    lines.push('');
    lines.push('Checks after the run:');
    lines.push('');
    for (const [k, c] of Object.entries(fuzz.checks)) lines.push(`- ${c.ok ? 'ok' : '**FAILED**'} — ${k}: ${c.detail}`);
    if (fuzz.failures.count) {
      lines.push(`- **${fuzz.failures.count} failures**: ${Object.entries(fuzz.failures.byReason).map(([r, n]) => `${n} × ${r}`).join('; ')}`);
      for (const e of fuzz.serverLogErrors.examples) {
        const msg = /"message":"((?:[^"\\]|\\.)*)"/.exec(e)?.[1];
        if (msg) lines.push(`  - server log: \`${msg.slice(0, 300)}\``);
      }
    } else lines.push('- no failures: every hostile request got a 4xx, every valid one a 2xx');
  }
  lines.push('');
  return lines.join('\n');
}

interface ServeReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpuModel: string; cpus: number; memGiB: number; node: string };
  loadAverage: { before: number[]; after: number[] };
  autocannon: string;
  collection: { name: string; documents: number; chunks: number; version: number };
  readyMs: number;
  queries: number;
  config: { seconds: number; rounds: number; rate: number; rateConnections: number; connections: number; k: number };
  summary: Summary[];
  runs: PhaseRun[];
  rssMiB: number;
  fuzz?: { passed: boolean; failures: number; results: string };
  /** how `quarry serve` ended on SIGTERM (graceful shutdown: code 0) */
  serverExit?: { code: number | null; signal: string | null };
}

async function main(): Promise<void> {
  const dataDir = dataDirOf();
  requireScifact(dataDir);
  const queries = loadQueries();
  const loadBefore = loadavg();
  const startedAt = new Date().toISOString();
  const server = await startServer(dataDir, TAG);
  let report: ServeReport | undefined;
  let fuzz: FuzzReport | undefined;
  let overload: OverloadReport | undefined;
  let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
  try {
    const key = await server.key('read', [SCIFACT], 'bench:serve load');
    // /metrics needs the metrics (or admin) scope
    const metricsKey = await server.key('metrics', [SCIFACT], 'bench:serve scrape');
    const info = JSON.parse((await send(server.base, { method: 'GET', path: `/collections/${SCIFACT}`, headers: bearer(key) })).body) as { documents: number; chunks: number; version: number };
    log(TAG, `${SCIFACT}: ${info.documents} documents, ${info.chunks} chunks, version ${info.version}; ${queries.length} queries`);
    // warm-up, not recorded: both modes at full speed for a few seconds
    for (const mode of MODES) await phase(server.base, key, metricsKey, queries, mode, 'full', 0, 3);
    const runs: PhaseRun[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const load of LOADS) for (const mode of MODES) runs.push(await phase(server.base, key, metricsKey, queries, mode, load, round, SECONDS));
    }
    const metrics = await scrape(server.base, metricsKey);
    const summary = summarize(runs);
    printTable(summary);
    const acPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as { version: string };
    report = {
      startedAt,
      finishedAt: '',
      machine: { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node },
      loadAverage: { before: loadBefore, after: [] },
      autocannon: acPkg.version,
      collection: { name: SCIFACT, ...info },
      readyMs: Math.round(server.readyMs),
      queries: queries.length,
      config: { seconds: SECONDS, rounds: ROUNDS, rate: RATE, rateConnections: RATE_CONNECTIONS, connections: CONNECTIONS, k: K },
      summary,
      runs,
      rssMiB: Math.round(metricSum(metrics, 'process_resident_memory_bytes') / 2 ** 20),
    };
    if (process.env.BENCH_SERVE_OVERLOAD !== '0') overload = await runOverload(server, await server.key('admin', [SCIFACT], 'bench:serve overload'), queries);
    if (process.env.BENCH_SERVE_FUZZ !== '0') fuzz = await runFuzz(server);
  } finally {
    exit = await server.stop();
    log(TAG, `server stopped: exit code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}`);
  }
  report.serverExit = exit;
  report.loadAverage.after = loadavg();
  report.finishedAt = new Date().toISOString();
  if (fuzz) report.fuzz = { passed: fuzz.passed, failures: fuzz.failures.count, results: 'bench/results/fuzz.json' };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + '\n');
  writeMarkedSection(join(REPO_ROOT, 'BENCHMARKS.md'), 'bench:serve', markdown(report, fuzz));
  if (overload) writeOverload(overload, 'npm run bench:serve');
  log(TAG, `wrote ${RESULTS}${fuzz ? ` and ${FUZZ_RESULTS}` : ''} and the bench:serve section of BENCHMARKS.md; load average ${fmtLoad(loadBefore)} before, ${fmtLoad(report.loadAverage.after)} after`);
  const loadOk = exit.code === 0 && report.summary.every((s) => s.errors === 0 && s.timeouts === 0 && s.non2xx === 0 && (s.load === 'full' || s.shed === 0) && s.mismatches === 0 && s.metricsConsistent);
  const overloadOk = !overload || (overload.goal.withinTwice && overload.goal.noTimeouts);
  if (!loadOk || !overloadOk || (fuzz && !fuzz.passed)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
