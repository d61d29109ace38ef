/**
 * The bounded fuzz run: 10,000 malformed or hostile requests (BENCH_FUZZ_REQUESTS) from a
 * seeded PRNG (BENCH_FUZZ_SEED), some valid ones interleaved, 8 in flight at a time
 * (BENCH_FUZZ_CONCURRENCY). The server must answer every hostile request with a 4xx (a 5xx,
 * a dropped connection or a 2xx is a failure, printed with the request), stay up (/healthz
 * 200 and the same process at the end, no error lines in its log), and lose nothing: the
 * collections' document and chunk counts, versions and fixed probe searches are the same
 * before and after. Write routes aim only at a small collection made for the run through
 * the API (`bench-fuzz`, deleted at the end), so SciFact is only read.
 *
 * `npm run bench:serve` runs it after the load phases; `npm run bench:fuzz` runs it alone
 * (own server). Both write bench/results/fuzz.json.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { symlink, mkdir } from 'node:fs/promises';
import http from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { revokeKey } from '../../src/server/keys.js';
import { REPO_ROOT, SHARED_DIR } from '../support.js';
import { CATEGORY_WEIGHTS, FUZZ_COLLECTION, FUZZ_DOCS, makeGenerator, type Expect, type FuzzCase, type FuzzKeys } from './fuzz-cases.js';
import { bearer, dataDirOf, log, metricSum, requireScifact, scrape, SCIFACT, send, sendRaw, serverErrors, startServer, type Reply, type ServerHandle } from './server.js';

const TAG = 'bench:fuzz';
export const FUZZ_RESULTS = join(REPO_ROOT, 'bench', 'results', 'fuzz.json');

export function loadQueries(): string[] {
  return readFileSync(join(SHARED_DIR, 'datasets', 'scifact', 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'no answer' | '1xx';
function classOf(status: number): StatusClass {
  if (status === 0) return 'no answer';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}

function verdict(c: FuzzCase, r: Reply): string | null {
  const cls = classOf(r.status);
  if (cls === 'no answer') return c.mayDrop ? null : `no answer (${r.error ?? 'connection closed'})`;
  if (cls === '5xx') return `answered ${r.status}`;
  // admission control may shed a search while hostile bodies keep the server busy: a 429 with
  // Retry-After is a legal answer to a valid search (counted under byStatus)
  if (c.expect === 'accept' && r.status === 429 && r.headers['retry-after'] !== undefined) return null;
  const want: Record<Expect, StatusClass[]> = { reject: ['4xx'], accept: ['2xx'], either: ['2xx', '4xx'] };
  return want[c.expect].includes(cls) ? null : `answered ${r.status}, expected ${c.expect === 'reject' ? 'a 4xx' : c.expect === 'accept' ? 'a 2xx' : '2xx or 4xx'}`;
}

function describe(c: FuzzCase): Record<string, unknown> {
  const body = c.raw ?? c.body;
  const text = body === undefined ? undefined : Buffer.isBuffer(body) ? body.toString('latin1') : body;
  return {
    category: c.category,
    name: c.name,
    method: c.method,
    path: c.path.length > 200 ? `${c.path.slice(0, 200)}… (${c.path.length} chars)` : c.path,
    ...(text !== undefined ? { body: text.length > 300 ? `${text.slice(0, 300)}… (${text.length} bytes)` : text } : {}),
    ...(c.chunked ? { chunked: true } : {}),
  };
}

/** What must not change: every collection's counts and version, and fixed probe searches. */
async function snapshot(base: string, key: string): Promise<Record<string, unknown>> {
  const get = async (path: string) => {
    const r = await send(base, { method: 'GET', path, headers: bearer(key) });
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as Record<string, unknown>;
  };
  const search = async (collection: string, body: Record<string, unknown>) => {
    const r = await send(base, { method: 'POST', path: `/collections/${collection}/search`, headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`search ${collection}: ${r.status} ${r.body.slice(0, 300)}`);
    const res = JSON.parse(r.body) as { results: Array<{ chunkId: string; docId: string; score: number }> };
    return { version: r.headers['x-quarry-version'], results: res.results.map((x) => `${x.docId}/${x.chunkId}/${x.score.toFixed(6)}`) };
  };
  const listed = (await get('/collections')).collections as Array<Record<string, unknown>>;
  const out: Record<string, unknown> = {
    collections: listed.map((c) => ({ name: c.name, documents: c.documents, chunks: c.chunks, version: c.version, state: c.state })),
  };
  for (const name of [SCIFACT, FUZZ_COLLECTION]) {
    const info = await get(`/collections/${name}`);
    const versions = (await get(`/collections/${name}/versions`)).versions as Array<Record<string, unknown>>;
    const q = name === SCIFACT ? 'Vitamin D deficiency increases the risk of tuberculosis.' : 'order shipped from Hamburg';
    out[name] = {
      documents: info.documents,
      chunks: info.chunks,
      version: info.version,
      versions: versions.map((v) => `${v.version}:${v.kind}:${v.documents}:${v.chunks}:${v.current}`),
      vector: await search(name, { query: q, k: 10, mode: 'vector' }),
      bm25: await search(name, { query: q, k: 10, mode: 'bm25' }),
      hybrid: await search(name, { query: q, k: 10, mode: 'hybrid' }),
      // if a hostile body had polluted Object.prototype, this filter would match every document
      pollutionProbe: await search(name, { query: q, k: 10, mode: 'bm25', filter: { fuzzPolluted: true } }),
    };
  }
  return out;
}

/** Drops the fuzz collection if a previous run left it, creates it through the API and adds its documents. */
async function setupFuzzCollection(base: string, admin: string, write: string): Promise<void> {
  const h = (k: string) => ({ 'content-type': 'application/json', ...bearer(k) });
  const old = await send(base, { method: 'DELETE', path: `/collections/${FUZZ_COLLECTION}`, headers: bearer(admin) });
  if (old.status === 200) log(TAG, `removed a ${FUZZ_COLLECTION} collection a previous run left behind`);
  const created = await send(base, { method: 'POST', path: '/collections', headers: h(admin), body: JSON.stringify({ name: FUZZ_COLLECTION, chunkTokens: 64, overlapTokens: 8 }) });
  if (created.status !== 201) throw new Error(`cannot create ${FUZZ_COLLECTION}: ${created.status} ${created.body}`);
  const up = await send(base, { method: 'POST', path: `/collections/${FUZZ_COLLECTION}/documents`, headers: h(write), body: JSON.stringify({ documents: FUZZ_DOCS }) });
  if (up.status !== 200) throw new Error(`cannot add the documents of ${FUZZ_COLLECTION}: ${up.status} ${up.body}`);
}

export interface FuzzReport {
  seed: number;
  requests: number;
  concurrency: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  loadAverage: { before: number[]; after: number[] };
  byClass: Record<string, number>;
  byStatus: Record<string, number>;
  byCategory: Record<string, { requests: number; expect: Record<string, number>; classes: Record<string, number>; failures: number }>;
  /** quarry's error code of each 4xx/5xx answer (Node's own 400/431 for unparsable HTTP carry none) */
  byErrorCode: Record<string, number>;
  /** status counts per case template: what each kind of request got */
  byTemplate: Record<string, Record<string, number>>;
  failures: { count: number; byReason: Record<string, number>; examples: Array<Record<string, unknown>> };
  latencyMs: { p50: number; p99: number; max: number };
  checks: Record<string, { ok: boolean; detail: string }>;
  serverLogErrors: { count: number; examples: string[] };
  passed: boolean;
}

/** reqId -> status of the server's request log lines written after character `from`. */
function statusesByRequestId(logFile: string, from: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').slice(from).split('\n')) {
    if (!line.includes('"reqId":"fz-')) continue;
    try {
      const o = JSON.parse(line) as { reqId?: string; status?: number };
      if (o.reqId && typeof o.status === 'number') out.set(o.reqId, o.status);
    } catch {
      // a partial last line
    }
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

/** Runs the fuzz against a running server whose keys file this process may add keys to. */
export async function runFuzz(server: ServerHandle, opts: { seed?: number; requests?: number; concurrency?: number } = {}): Promise<FuzzReport> {
  const seed = opts.seed ?? Number(process.env.BENCH_FUZZ_SEED ?? 20261202);
  const total = opts.requests ?? Number(process.env.BENCH_FUZZ_REQUESTS ?? 10_000);
  const concurrency = opts.concurrency ?? Number(process.env.BENCH_FUZZ_CONCURRENCY ?? 8);
  const { base } = server;

  const keys: FuzzKeys = {
    readAll: await server.key('read', ['*'], 'fuzz read'),
    readOther: await server.key('read', ['some-other-collection'], 'fuzz other'),
    write: await server.key('write', [FUZZ_COLLECTION], 'fuzz write'),
    admin: await server.key('admin', [FUZZ_COLLECTION], 'fuzz admin'),
    revoked: await server.key('read', ['*'], 'fuzz revoked'),
    adminAll: await server.key('admin', ['*'], 'fuzz admin of every collection (sent only with names that must be refused)'),
    metrics: await server.key('metrics', ['*'], 'fuzz metrics'),
  };
  await revokeKey(server.keysFile, keys.revoked.split('_')[1]);
  // a dataset folder whose only entry is a symbolic link out of it: evaluations must refuse it
  await mkdir(server.datasetsRoot, { recursive: true });
  await symlink(join(SHARED_DIR, 'datasets'), join(server.datasetsRoot, 'escape')).catch(() => {});

  await setupFuzzCollection(base, keys.admin, keys.write);
  const before = await snapshot(base, keys.readAll);
  const metricsBefore = await scrape(base, keys.metrics);
  const logFrom = serverErrors(server.logFile).size;

  const next = makeGenerator(seed, keys, loadQueries());
  // generated up front (cheap) so the run is the same sequence whatever the timing
  const cases: FuzzCase[] = Array.from({ length: total }, () => next());
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const results: Array<{ c: FuzzCase; r: Reply; why: string | null; serverStatus?: number }> = new Array(total);
  const loadBefore = loadavg();
  const startedAt = new Date();
  const t0 = performance.now();
  let cursor = 0;
  let finished = 0;
  const progress = setInterval(() => log(TAG, `${finished}/${total} requests`), 10_000);
  async function worker(): Promise<void> {
    for (;;) {
      const i = cursor++;
      if (i >= total) return;
      const c = cases[i];
      const r = c.raw
        ? await sendRaw(base, c.raw, { halfClose: c.halfClose })
        : await send(base, { method: c.method, path: c.path, headers: { ...c.headers, 'x-request-id': `fz-${i}` }, body: c.body, chunked: c.chunked, agent });
      results[i] = { c, r, why: verdict(c, r) };
      finished++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(progress);
  const seconds = (performance.now() - t0) / 1000;
  const loadAfter = loadavg();
  agent.destroy();

  // A request the client got no answer to may still have been answered: the server logs
  // every request it routed with the X-Request-Id sent (fz-<i>), so look its status up.
  const logged = statusesByRequestId(server.logFile, logFrom);
  for (let i = 0; i < total; i++) {
    const x = results[i];
    const st = logged.get(`fz-${i}`);
    if (x.r.status === 0 && st !== undefined) {
      x.serverStatus = st;
      if (x.why) x.why = `no answer reached the client (${x.r.error ?? 'closed'}), though the server logged ${st}: it closed the connection while the client was still sending the body`;
    }
  }

  // --- tallies
  const byClass: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const byCategory: FuzzReport['byCategory'] = {};
  const byReason: Record<string, number> = {};
  const examples: Array<Record<string, unknown>> = [];
  const byErrorCode: Record<string, number> = {};
  const byTemplate: Record<string, Record<string, number>> = {};
  for (const { c, r, why, serverStatus } of results) {
    const cls = classOf(r.status);
    const code = /^\{"error":\{"code":"([A-Z_]+)"/.exec(r.body)?.[1] ?? (r.status >= 400 ? `(${r.status} without quarry's error body)` : undefined);
    if (code) byErrorCode[code] = (byErrorCode[code] ?? 0) + 1;
    // the case's template: its name with the random parts (numbers, lengths) folded
    const template = `${c.category} / ${c.name.replace(/\d+/g, 'N').slice(0, 90)} [${c.expect}]`;
    const t = (byTemplate[template] ??= {});
    t[String(r.status)] = (t[String(r.status)] ?? 0) + 1;
    byClass[cls] = (byClass[cls] ?? 0) + 1;
    byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    const cat = (byCategory[c.category] ??= { requests: 0, expect: {}, classes: {}, failures: 0 });
    cat.requests++;
    cat.expect[c.expect] = (cat.expect[c.expect] ?? 0) + 1;
    cat.classes[cls] = (cat.classes[cls] ?? 0) + 1;
    if (why) {
      cat.failures++;
      const reason = `${c.category} / ${c.name}: ${serverStatus !== undefined ? `no answer reached the client; the server logged ${serverStatus} and closed the connection while the body was still being sent` : why.replace(/\(.*\)/, '').trim()}`;
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      if (examples.length < 30 && byReason[reason] <= 2) {
        examples.push({ ...describe(c), status: r.status, why, answer: r.body.slice(0, 400), ...(r.error ? { error: r.error } : {}) });
      }
    }
  }
  const failureCount = results.filter((x) => x.why).length;

  // --- after: still up, nothing lost
  const checks: FuzzReport['checks'] = {};
  const health = await send(base, { method: 'GET', path: '/healthz' });
  checks.healthz = { ok: health.status === 200, detail: `GET /healthz: ${health.status}` };
  const ready = await send(base, { method: 'GET', path: '/readyz', headers: bearer(keys.readAll) });
  checks.readyz = { ok: ready.status === 200, detail: `GET /readyz: ${ready.status}` };
  // no half-made collection folder, whatever names were tried (issue 14)
  const staging = readdirSync(server.dataDir).filter((f) => f.includes('.creating-'));
  checks.noStagingLeft = { ok: staging.length === 0, detail: staging.length === 0 ? 'no *.creating-* folder in the data folder' : `left behind: ${staging.join(', ')}` };
  checks.sameProcess = { ok: server.alive(), detail: server.alive() ? `pid ${server.pid} still running` : `pid ${server.pid} exited (${server.child.exitCode ?? server.child.signalCode})` };
  let after: Record<string, unknown> = {};
  try {
    after = await snapshot(base, keys.readAll);
    const same = JSON.stringify(after) === JSON.stringify(before);
    const diff = same
      ? 'counts, versions and probe searches identical'
      : Object.keys(before)
          .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
          .map((k) => `${k}: before ${JSON.stringify(before[k]).slice(0, 300)} after ${JSON.stringify(after[k]).slice(0, 300)}`)
          .join('; ');
    checks.nothingLost = { ok: same, detail: diff };
    const probes = [SCIFACT, FUZZ_COLLECTION].map((n) => (after[n] as { pollutionProbe: { results: string[] } }).pollutionProbe.results.length);
    checks.noPrototypePollution = { ok: probes.every((n) => n === 0), detail: `filter {"fuzzPolluted": true} matched ${probes.join(' and ')} results` };
  } catch (e) {
    checks.nothingLost = { ok: false, detail: `could not take the after snapshot: ${(e as Error).message}` };
  }
  const metricsAfter = await scrape(base, keys.metrics).catch(() => undefined);
  const http5xx = metricsAfter
    ? ['500', '501', '502', '503', '504'].reduce((s, st) => s + metricSum(metricsAfter, 'quarry_http_requests_total', { status: st }) - metricSum(metricsBefore, 'quarry_http_requests_total', { status: st }), 0)
    : NaN;
  checks.metrics5xx = { ok: http5xx === 0, detail: `quarry_http_requests_total with a 5xx status went up by ${http5xx}` };
  const logErrors = serverErrors(server.logFile, logFrom);
  checks.serverLog = { ok: logErrors.count === 0, detail: `${logErrors.count} error-level lines in the server log during the run` };
  const rssBefore = metricSum(metricsBefore, 'process_resident_memory_bytes');
  const rssAfter = metricsAfter ? metricSum(metricsAfter, 'process_resident_memory_bytes') : NaN;
  checks.memory = { ok: true, detail: `server RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after` };

  // clean up the fuzz collection (the snapshot above has been compared)
  const dropped = await send(base, { method: 'DELETE', path: `/collections/${FUZZ_COLLECTION}`, headers: bearer(keys.admin) });
  checks.cleanup = { ok: dropped.status === 200, detail: `DELETE /collections/${FUZZ_COLLECTION}: ${dropped.status}` };

  const report: FuzzReport = {
    seed,
    requests: total,
    concurrency,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds,
    loadAverage: { before: loadBefore, after: loadAfter },
    byClass,
    byStatus,
    byCategory,
    byErrorCode,
    byTemplate: Object.fromEntries(Object.entries(byTemplate).sort(([a], [b]) => a.localeCompare(b))),
    failures: { count: failureCount, byReason, examples },
    latencyMs: { p50: pct(results.map((x) => x.r.ms), 50), p99: pct(results.map((x) => x.r.ms), 99), max: Math.max(...results.map((x) => x.r.ms)) },
    checks,
    serverLogErrors: { count: logErrors.count, examples: logErrors.examples },
    passed: failureCount === 0 && Object.values(checks).every((c) => c.ok),
  };
  mkdirSync(dirname(FUZZ_RESULTS), { recursive: true });
  writeFileSync(FUZZ_RESULTS, JSON.stringify(report, null, 2) + '\n');
  printFuzz(report);
  return report;
}

export function printFuzz(r: FuzzReport): void {
  const lines: string[] = [];
  lines.push(`fuzz: ${r.requests} requests (seed ${r.seed}, ${r.concurrency} in flight) in ${r.seconds.toFixed(1)} s; answers by class: ${JSON.stringify(r.byClass)}`);
  lines.push(`${'category'.padEnd(16)} ${'requests'.padStart(8)} ${'2xx'.padStart(6)} ${'4xx'.padStart(6)} ${'5xx'.padStart(5)} ${'none'.padStart(5)} ${'failures'.padStart(8)}`);
  for (const [cat, c] of Object.entries(r.byCategory).sort((a, b) => Object.keys(CATEGORY_WEIGHTS).indexOf(a[0]) - Object.keys(CATEGORY_WEIGHTS).indexOf(b[0]))) {
    lines.push(`${cat.padEnd(16)} ${String(c.requests).padStart(8)} ${String(c.classes['2xx'] ?? 0).padStart(6)} ${String(c.classes['4xx'] ?? 0).padStart(6)} ${String(c.classes['5xx'] ?? 0).padStart(5)} ${String(c.classes['no answer'] ?? 0).padStart(5)} ${String(c.failures).padStart(8)}`);
  }
  for (const [k, c] of Object.entries(r.checks)) lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${k}: ${c.detail}`);
  if (r.failures.count) {
    lines.push(`${r.failures.count} failures:`);
    for (const [reason, n] of Object.entries(r.failures.byReason)) lines.push(`  ${n} x ${reason}`);
    for (const e of r.failures.examples.slice(0, 10)) lines.push(`  e.g. ${JSON.stringify(e).slice(0, 700)}`);
  }
  if (r.serverLogErrors.count) for (const e of r.serverLogErrors.examples) lines.push(`  server log: ${e.slice(0, 500)}`);
  lines.push(r.passed ? 'fuzz: PASSED' : 'fuzz: FAILED');
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const dataDir = dataDirOf();
  requireScifact(dataDir);
  const server = await startServer(dataDir, TAG);
  let report: FuzzReport | undefined;
  try {
    report = await runFuzz(server);
  } finally {
    const exit = await server.stop();
    log(TAG, `server stopped: exit code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}`);
  }
  log(TAG, `wrote ${FUZZ_RESULTS}`);
  if (!report.passed) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
