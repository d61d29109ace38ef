#!/usr/bin/env node
/**
 * The npm package is a product: pack it, install the tarball into an empty project with an empty
 * HOME (so no npm cache, node-gyp headers or models hide a missing step), then provision models,
 * index, search and serve through `npx quarry`, and import each public entry point, as a user
 * would. Run by .ci/run; `node scripts/check-pack.mjs` (after `npm run build`).
 *
 * Models: QUARRY_MODELS (default ~/.cache/quarry/models of the caller) is handed to the installed
 * package, so `npx quarry models provision` runs for real from the package but verifies files
 * already there instead of downloading 300 MB again; a cold provision is what the README's
 * commands do in CI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'quarry-pack-'));
const home = join(work, 'home');
const app = join(work, 'app');
mkdirSync(home);
mkdirSync(app);
const models = process.env.QUARRY_MODELS ?? join(homedir(), '.cache', 'quarry', 'models');
// Only what a user's shell would have: no npm_config_* of the caller's npm run, a HOME with nothing in it.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
Object.assign(env, { HOME: home, QUARRY_MODELS: models, ONNXRUNTIME_NODE_INSTALL: 'skip' });
const started = Date.now();

function step(what, cmd, args, opts = {}) {
  const t = Date.now();
  process.stdout.write(`== ${what}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: app, env, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    fail(`${what} exited ${r.status ?? r.signal}`);
  }
  process.stdout.write(`   ok in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  return r.stdout;
}

function fail(why) {
  process.stderr.write(`check-pack FAILED: ${why} (work folder kept: ${work})\n`);
  process.exit(1);
}

function expect(cond, why) {
  if (!cond) fail(why);
}

// 1. the tarball, and what it must (and must not) hold
const packed = JSON.parse(step('pack', 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root }))[0];
const files = new Set(packed.files.map((f) => f.path));
for (const f of ['bin/quarry.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'models/manifest.json', 'models/files/README.md', 'models/files/sentence-transformers__all-MiniLM-L6-v2/tokenizer.json', 'scripts/models/provision_pypi.py', 'scripts/models/requirements.txt', 'scripts/models/export_bert_onnx.py', ...['core', 'netty', 'painless', 'analysis', 'knn'].map((p) => `scripts/cluster/poms/${p}.xml`)]) {
  expect(files.has(f), `the package lacks ${f}`);
}
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const [entry, target] of Object.entries(rootPkg.exports)) {
  for (const f of typeof target === 'string' ? [target] : [target.types, target.default]) expect(files.has(f.replace(/^\.\//, '')), `the package lacks ${f} (exports["${entry}"])`);
}
expect(![...files].some((f) => f.startsWith('tests/') || f.startsWith('src/') || f.startsWith('dist/tests/') || f.includes('__pycache__')), 'the package holds tests, sources or caches');
process.stdout.write(`   ${packed.filename}: ${files.size} files, ${(packed.size / 1e6).toFixed(1)} MB packed\n`);

// 2. an empty project installs it (registry only, nothing compiled)
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quarry-pack-check', private: true, type: 'module' }));
step('install', 'npm', ['install', '--no-audit', '--no-fund', join(work, packed.filename)]);

// 3. the CLI, as a user runs it
const provision = step('models provision', 'npx', ['quarry', 'models', 'provision']);
expect(/models ready in/.test(provision), 'models provision did not report its result');
process.stdout.write(`   ${provision.trim().split('\n').pop()}\n`);
const docs = join(work, 'docs');
mkdirSync(docs);
writeFileSync(join(docs, 'drift.md'), '# Embedding drift\n\nWhen the embedding model changes after an upgrade, stored vectors no longer match new queries, and search quietly returns wrong results.\n');
writeFileSync(join(docs, 'bread.txt'), 'A sourdough starter needs flour, water and a few days at room temperature.\n');
const data = join(work, 'data');
step('index', 'npx', ['quarry', 'index', docs, '--data', data]);
const found = JSON.parse(step('search', 'npx', ['quarry', 'search', 'why are results wrong after a model upgrade', '--data', data, '--json']));
const first = found.results?.[0];
expect(first && /drift\.md/.test(first.source ?? ''), `search did not rank drift.md first: ${JSON.stringify(found).slice(0, 400)}`);

// 4. the server, with a key
const key = step('keys create', 'npx', ['quarry', 'keys', 'create', '--scope', 'read', '--collection', '*', '--data', data]).trim().split('\n').pop();
const port = await freePort();
const server = spawn('npx', ['quarry', 'serve', '--data', data, '--port', String(port), '--log-level', 'warn'], { cwd: app, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
try {
  await waitFor(`http://127.0.0.1:${port}/healthz`, 60_000);
  const res = await fetch(`http://127.0.0.1:${port}/collections/default/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'why are results wrong after a model upgrade' }),
  });
  const body = await res.json();
  expect(res.status === 200 && /drift\.md/.test(body.results?.[0]?.source ?? ''), `serve answered ${res.status}: ${JSON.stringify(body).slice(0, 400)}`);
  process.stdout.write('== serve: POST /collections/default/search answered 200 with drift.md first\n');
} finally {
  process.kill(-server.pid, 'SIGTERM');
}

// 5. every public entry point imports; the framework adapters (quarry/langchain, quarry/llamaindex)
// once the app has installed their framework, an optional peer that installing quarry must not pull in
const { exports, peerDependencies = {} } = JSON.parse(readFileSync(join(app, 'node_modules', 'quarry', 'package.json'), 'utf8'));
const peers = Object.keys(peerDependencies);
for (const p of peers) expect(!existsSync(join(app, 'node_modules', ...p.split('/'))), `installing quarry pulled in ${p}: it must stay an optional peer dependency`);
if (peers.length > 0) step('install the frameworks', 'npm', ['install', '--no-audit', '--no-fund', ...peers.map((p) => `${p}@${rootPkg.devDependencies[p] ?? peerDependencies[p]}`)]);
for (const entry of Object.keys(exports)) {
  if (entry.endsWith('.json')) continue;
  const spec = entry === '.' ? 'quarry' : `quarry/${entry.slice(2)}`;
  step(`import ${spec}`, 'node', ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); if (Object.keys(m).length === 0) process.exit(3);`]);
}

const nodeModules = readdirSync(join(app, 'node_modules')).length;
process.stdout.write(`check-pack passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${nodeModules} top-level packages installed)\n`);
rmSync(work, { recursive: true, force: true });

function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`${url} did not answer within ${ms / 1000} s`);
}
