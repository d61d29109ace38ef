/**
 * What bench:serve and bench:fuzz share: a `quarry serve` child process on 127.0.0.1 with a
 * fresh keys file, plain HTTP requests to it, raw socket writes for what node:http refuses
 * to send, and readers for /metrics.
 *
 * The server runs in its own process (`node bin/quarry.js serve --port 0`), as users run it,
 * so the load generator does not share its event loop. Its log (one JSON line per request)
 * goes to a file: the listening line names the port, and error-level lines are the 5xx the
 * fuzz run looks for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, closeSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey, type Scope } from '../../src/server/keys.js';
import { REPO_ROOT } from '../support.js';

export const SCIFACT = 'beir-scifact';
export const QUARRY_BIN = join(REPO_ROOT, 'bin', 'quarry.js');

export function log(tag: string, s: string): void {
  process.stderr.write(`[${tag}] ${s}\n`);
}

export interface ServerHandle {
  base: string;
  port: number;
  pid: number;
  dataDir: string;
  keysFile: string;
  datasetsRoot: string;
  tmp: string;
  logFile: string;
  child: ChildProcess;
  /** Whether the child process is still running. */
  alive(): boolean;
  key(scope: Scope, collections: string[], label?: string): Promise<string>;
  /** SIGTERM, wait for exit (graceful shutdown), remove the temp folder. */
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

/**
 * Where the collections live: $BENCH_SERVE_DATA, else the repository's .quarry (where
 * `quarry eval --dataset ../shared/datasets/scifact` leaves beir-scifact).
 */
export function dataDirOf(): string {
  return process.env.BENCH_SERVE_DATA ?? join(REPO_ROOT, '.quarry');
}

export function requireScifact(dataDir: string): void {
  if (!existsSync(join(dataDir, SCIFACT, 'manifest.json'))) {
    throw new Error(
      `no ${SCIFACT} collection in ${dataDir}: build it first with\n  node bin/quarry.js eval --dataset ../shared/datasets/scifact --modes bm25\n(or point BENCH_SERVE_DATA at a data folder holding it)`,
    );
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number, child?: ChildProcess): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) while waiting for ${what}`);
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `quarry serve` over `dataDir` and waits for /readyz 200. */
export async function startServer(dataDir: string, tag: string): Promise<ServerHandle & { readyMs: number }> {
  const tmp = await mkdtemp(join(tmpdir(), 'quarry-bench-serve-'));
  const keysFile = join(tmp, 'keys.json');
  const datasetsRoot = join(tmp, 'datasets');
  const logFile = join(tmp, 'server.log');
  const key = async (scope: Scope, collections: string[], label?: string) => (await createKey(keysFile, { scope, collections, label })).key;
  // the key /readyz is polled with; created before the server starts, as an operator would
  const probeKey = await key('read', ['*'], 'bench readiness probe');
  const fd = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [QUARRY_BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--keys', keysFile, '--datasets', datasetsRoot, '--log-level', 'info'],
    { stdio: ['ignore', fd, fd], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } },
  );
  closeSync(fd);
  const port = await until(
    'the "Server listening at" log line',
    async () => {
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(logFile, 'utf8'));
      return m ? Number(m[1]) : undefined;
    },
    120_000,
    child,
  );
  const base = `http://127.0.0.1:${port}`;
  await until(
    '/readyz 200',
    async () => ((await send(base, { method: 'GET', path: '/readyz', headers: bearer(probeKey) })).status === 200 ? true : undefined),
    300_000,
    child,
  );
  const readyMs = performance.now() - t0;
  log(tag, `server pid ${child.pid} ready on ${base} after ${(readyMs / 1000).toFixed(1)} s (data ${dataDir}, log ${logFile})`);
  return {
    base,
    port,
    pid: child.pid!,
    dataDir,
    keysFile,
    datasetsRoot,
    tmp,
    logFile,
    child,
    readyMs,
    alive: () => child.exitCode === null && child.signalCode === null,
    key,
    stop: async () => {
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
        else child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const r = await exited;
      clearTimeout(killer);
      if (!process.env.BENCH_SERVE_KEEP_TMP) await rm(tmp, { recursive: true, force: true });
      return r;
    },
  };
}

export function bearer(k: string): Record<string, string> {
  return { authorization: `Bearer ${k}` };
}

export interface Reply {
  /** 0 when no HTTP answer came (see `error`). */
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  error?: string;
  ms: number;
}

export interface SendOptions {
  method: string;
  /** Sent exactly as given (percent-encodings, dots and all). */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
  agent?: http.Agent;
  timeoutMs?: number;
}

const MAX_KEPT_BODY = 64 * 1024;

/** One HTTP request; never rejects: a transport failure is status 0 with the error. */
export function send(base: string, o: SendOptions): Promise<Reply> {
  const url = new URL(base);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<Reply, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, ms: performance.now() - t0 });
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: url.hostname,
        port: url.port,
        method: o.method,
        path: o.path,
        headers: o.headers,
        agent: o.agent ?? false,
        timeout: o.timeoutMs ?? 30_000,
      });
    } catch (e) {
      done({ status: 0, body: '', headers: {}, error: `client refused to send: ${(e as Error).message}` });
      return;
    }
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_KEPT_BODY) parts.push(c);
        size += c.length;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
      // an answer was started: its status counts even if the connection drops afterwards
      res.on('error', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
      res.on('aborted', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // EPIPE/ECONNRESET after the server answered early (413 before reading a huge body) is
    // fine: the response handler above resolves first.
    req.on('error', (e) => setTimeout(() => done({ status: 0, body: '', headers: {}, error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim() }), 50));
    if (o.body !== undefined && !o.chunked && req.getHeader('content-length') === undefined) req.setHeader('content-length', Buffer.byteLength(o.body));
    if (o.body !== undefined) {
      if (o.chunked) {
        // several writes so the server sees chunk framing, not one block
        const buf = Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
        const step = 16 * 1024;
        for (let i = 0; i < buf.length; i += step) req.write(buf.subarray(i, i + step));
      } else req.write(o.body);
    }
    req.end();
  });
}

/** Writes raw bytes and reads the status line of the first answer; 0 when the server closed without one. */
export function sendRaw(base: string, bytes: Buffer | string, opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<Reply> {
  const url = new URL(base);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, body: data.slice(data.indexOf('\r\n\r\n') + 4, 2000), headers: {}, ms: performance.now() - t0, ...(m ? {} : { error: error ?? 'closed without an answer' }) });
    };
    sock.setTimeout(opts.timeoutMs ?? 10_000, () => done('no answer before the timeout'));
    sock.on('connect', () => {
      sock.write(bytes, () => {
        if (opts.halfClose) sock.end();
      });
    });
    sock.on('data', (c) => {
      data += c.toString('latin1');
      // the whole answer is not needed: the status line and the headers are
      if (data.includes('\r\n\r\n')) setTimeout(() => done(), 20);
    });
    sock.on('error', (e) => done(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim()));
    sock.on('close', () => done());
  });
}

/** Parses Prometheus text into `name{labels}` -> value (labels in the order printed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Sum of the samples of `name` whose labels include every `label="value"` given. */
export function metricSum(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [k, v] of m) {
    const brace = k.indexOf('{');
    const n = brace < 0 ? k : k.slice(0, brace);
    if (n !== name) continue;
    const ls = brace < 0 ? '' : k.slice(brace);
    if (Object.entries(labels).every(([lk, lv]) => ls.includes(`${lk}="${lv}"`))) sum += v;
  }
  return sum;
}

export async function scrape(base: string, key: string): Promise<Map<string, number>> {
  const r = await send(base, { method: 'GET', path: '/metrics', headers: bearer(key) });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body.slice(0, 200)} ${r.error ?? ''}`);
  return parseMetrics(r.body);
}

/** Lines of the server log at error level or above (pino level >= 50), after byte `from`. */
export function serverErrors(logFile: string, from = 0): { count: number; examples: string[]; size: number } {
  const text = readFileSync(logFile, 'utf8');
  const lines = text.slice(from).split('\n').filter((l) => l.includes('"level":5') || l.includes('"level":6'));
  return { count: lines.length, examples: lines.slice(0, 5).map((l) => l.slice(0, 800)), size: text.length };
}
