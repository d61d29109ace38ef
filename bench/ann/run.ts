/**
 * npm run bench:ann — quarry's vector indexes against FAISS, LanceDB and raw usearch on the
 * same 175k embedded Wikipedia passages and the same 1,000 held-out queries, in one run.
 *
 * Steps: fill the vector cache if needed (resumable, ~/.cache/quarry/bench), cut the split and
 * the ground truth (cached), make the FAISS venv (cached), then for every configuration run
 * each system in a process of its own (clean memory baseline; one crash costs one row), and
 * write bench/results/ann.json plus the BENCHMARKS.md section.
 *
 * Environment:
 *   BENCH_ANN_LIMIT=20000        use only the first N passages (quick iterations; results go
 *                                to bench/results/ann-partial.json, BENCHMARKS.md untouched)
 *   BENCH_ANN_CONFIGS=flat,ivf-256   only these configurations (also a partial run)
 *   BENCH_ANN_SYSTEMS=quarry,faiss   only these systems (also a partial run)
 *   QUARRY_MODELS, QUARRY_BENCH_CACHE   where the model and the caches live
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support.js';
import { QUERY_COUNT, selectConfigs, WARMUP_QUERIES, type AnnConfig } from './configs.js';
import { prepareSplit, splitDir } from './dataset.js';
import type { SystemName, SystemResult } from './measure.js';
import { benchCacheDir, CORPUS_PATH, lancedbPeerDir, RESULTS_PATH } from './paths.js';
import { buildTable, evaluateTargets, markdownSection, pairedTable, searchTable, writeSection, type AnnReport, type ConfigResults } from './report.js';
import { buildVectors, lockHolder, readMeta } from './vectors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ALL_SYSTEMS: SystemName[] = ['quarry', 'usearch', 'faiss', 'lancedb'];
const WORKER_TIMEOUT_MS = 90 * 60 * 1000;

function log(s: string): void {
  process.stderr.write(`[bench:ann] ${s}\n`);
}

function selectSystems(): SystemName[] {
  const f = process.env.BENCH_ANN_SYSTEMS?.trim();
  if (!f) return ALL_SYSTEMS;
  const wanted = f.split(',').map((s) => s.trim());
  const bad = wanted.filter((w) => !ALL_SYSTEMS.includes(w as SystemName));
  if (bad.length) throw new Error(`BENCH_ANN_SYSTEMS: unknown ${bad.join(', ')}; known: ${ALL_SYSTEMS.join(', ')}`);
  return ALL_SYSTEMS.filter((s) => wanted.includes(s));
}

/** Waits for a background embedder, or embeds the missing rows here. */
async function ensureVectors(n: number | undefined): Promise<number> {
  for (;;) {
    const meta = readMeta();
    const want = n ?? meta?.count;
    if (meta && want !== undefined && meta.done >= want) return want;
    const holder = lockHolder();
    if (holder === undefined) break;
    log(`vector cache: pid ${holder} is embedding (${meta?.done ?? 0}/${want ?? '?'} rows); waiting`);
    await new Promise((r) => setTimeout(r, 60_000));
  }
  log('vector cache: embedding the corpus (resumable; interrupt and rerun to continue)');
  const meta = await buildVectors(n);
  return n ?? meta.count;
}

/** The FAISS venv under the bench cache, (re)made when requirements.txt changes. */
function ensureVenv(): string {
  const venv = join(benchCacheDir(), 'venv');
  const py = join(venv, 'bin', 'python');
  const req = join(REPO_ROOT, 'bench', 'ann', 'requirements.txt');
  const hash = createHash('sha256').update(readFileSync(req)).digest('hex');
  const stamp = join(venv, 'requirements.sha256');
  if (existsSync(py) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return py;
  const python = process.env.PYTHON ?? 'python3';
  log(`FAISS peer: creating ${venv} (${python} -m venv, pip install -r bench/ann/requirements.txt)`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
  };
  run(python, ['-m', 'venv', '--clear', venv]);
  run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', req]);
  writeFileSync(stamp, hash + '\n');
  return py;
}

/**
 * LanceDB's Node package, installed from bench/ann/lancedb-peer/package.json into the bench
 * cache (re-installed when that file changes). Kept out of quarry's own dependencies: it
 * brings a second onnxruntime, transformers.js and sharp, and npm cannot lock its platform
 * packages from this registry.
 */
function ensureLanceDb(): void {
  const dir = lancedbPeerDir();
  const srcDir = join(REPO_ROOT, 'bench', 'ann', 'lancedb-peer');
  const manifest = readFileSync(join(srcDir, 'package.json'));
  const hash = createHash('sha256').update(manifest).digest('hex');
  const stamp = join(dir, 'installed.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return;
  log(`LanceDB peer: npm install in ${dir}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), manifest);
  writeFileSync(join(dir, '.npmrc'), readFileSync(join(srcDir, '.npmrc')));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-package-lock', '--omit=dev', '--ignore-scripts'], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm install of the LanceDB peer in ${dir} failed with status ${r.status}`);
  writeFileSync(stamp, hash + '\n');
}

/** Runs one child; its SystemResult is the last line of stdout. */
function runChild(cmd: string, args: string[], system: SystemName, cfg: AnnConfig, env: NodeJS.ProcessEnv = {}): Promise<SystemResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      if (code === 0 && last.startsWith('{')) {
        log(`${system} ${cfg.id}: done in ${secs} s`);
        resolve(JSON.parse(last) as SystemResult);
        return;
      }
      let reason = err.trim().split('\n').slice(-4).join(' / ');
      if (last.startsWith('{')) reason = (JSON.parse(last) as SystemResult).reason ?? reason;
      log(`${system} ${cfg.id}: FAILED after ${secs} s (${signal ?? `exit ${code}`}): ${err.trim().split('\n').slice(-8).join('\n')}`);
      resolve({ system, config: cfg.id, available: false, reason: `failed (${signal ?? `exit ${code}`}): ${reason}`, points: [], notes: [] });
    });
  });
}

function versions(py: string | undefined): Record<string, string> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'missing';
    }
  };
  const peer = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(lancedbPeerDir(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  const v: Record<string, string> = { usearch: pkg('usearch'), '@lancedb/lancedb': peer('@lancedb/lancedb') };
  if (py) {
    const r = spawnSync(py, ['-c', 'import faiss, numpy; print(faiss.__version__, numpy.__version__)'], { encoding: 'utf8' });
    const [faiss, numpy] = r.stdout.trim().split(' ');
    v['faiss-cpu'] = faiss ?? 'missing';
    v.numpy = numpy ?? 'missing';
  }
  return v;
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0].toFixed(1);
  const limit = process.env.BENCH_ANN_LIMIT ? Number(process.env.BENCH_ANN_LIMIT) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= QUERY_COUNT)) {
    throw new Error(`BENCH_ANN_LIMIT must be an integer above ${QUERY_COUNT}, got ${process.env.BENCH_ANN_LIMIT}`);
  }
  const configs = selectConfigs();
  const systems = selectSystems();
  const partial = limit !== undefined || configs.length !== selectConfigs('').length || systems.length !== ALL_SYSTEMS.length;
  mkdirSync(benchCacheDir(), { recursive: true });

  const n = await ensureVectors(limit);
  const info = prepareSplit(n, log);
  log(`data: ${info.nBase} base vectors, ${info.nQueries} queries, ${info.dims}-d (${splitDir(n)})`);
  const py = systems.includes('faiss') ? ensureVenv() : undefined;
  if (systems.includes('lancedb')) ensureLanceDb();

  const results: ConfigResults[] = [];
  for (const cfg of configs) {
    const row: ConfigResults = { config: cfg, results: {} };
    for (const system of systems) {
      if (system === 'usearch' && cfg.kind !== 'hnsw') continue;
      log(`${system} ${cfg.id}: building and searching`);
      row.results[system] =
        system === 'faiss'
          ? await runChild(py as string, [join(REPO_ROOT, 'bench', 'ann', 'faiss_peer.py'), splitDir(n), JSON.stringify(cfg)], system, cfg, {
              BENCH_ANN_WARMUP: String(WARMUP_QUERIES),
              BENCH_ANN_TMP: benchCacheDir(),
              // OpenMP's spin-waiting collapses on a shared, oversubscribed machine (measured
              // here: 26 s vs 7 s to train IVF-PQ on 4k vectors); passive waiting does not.
              OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
              PYTHONUNBUFFERED: '1',
            })
          : await runChild(process.execPath, ['--expose-gc', '--enable-source-maps', join(HERE, 'worker.js'), system, cfg.id, String(n)], system, cfg);
    }
    results.push(row);
  }

  const meta = readMeta();
  const report: AnnReport = {
    command: 'npm run bench:ann' + (partial ? ` (partial: ${[limit && `BENCH_ANN_LIMIT=${limit}`, process.env.BENCH_ANN_CONFIGS && `BENCH_ANN_CONFIGS=${process.env.BENCH_ANN_CONFIGS}`, process.env.BENCH_ANN_SYSTEMS && `BENCH_ANN_SYSTEMS=${process.env.BENCH_ANN_SYSTEMS}`].filter(Boolean).join(' ')})` : ''),
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      loadAtStart,
      loadAtEnd: loadavg()[0].toFixed(1),
    },
    data: {
      corpus: 'wikipedia-en-passages',
      corpusPath: CORPUS_PATH,
      model: meta ? `${meta.model.id}:${meta.model.variant}` : 'unknown',
      ...info,
      warmup: WARMUP_QUERIES,
    },
    versions: versions(py),
    configs: results,
    targets: evaluateTargets(results, info.nBase * info.dims * 4),
  };
  const out = partial ? RESULTS_PATH.replace(/ann\.json$/, 'ann-partial.json') : RESULTS_PATH;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write('\n' + searchTable(results) + '\n\n' + pairedTable(results) + '\n\n' + buildTable(results) + '\n\n');
  for (const t of report.targets) process.stdout.write(`${t.met === null ? 'NOT MEASURED' : t.met ? 'MET' : 'MISSED'}: ${t.target}. ${t.detail}\n`);
  if (!partial) {
    writeSection(join(REPO_ROOT, 'BENCHMARKS.md'), markdownSection(report));
    log(`wrote ${out} and the bench:ann section of BENCHMARKS.md`);
  } else {
    log(`partial run: wrote ${out}; BENCHMARKS.md left alone`);
  }
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
