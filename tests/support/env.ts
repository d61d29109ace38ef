import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/tests/...). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const SEEDS_DIR = join(SHARED_DIR, 'seeds');
export const SCIFACT_DIR = join(SHARED_DIR, 'datasets', 'scifact');
export const CLI = join(REPO_ROOT, 'bin', 'quarry.js');

/** Where `npm test` provisioned the models (pretest runs `npm run models`). */
export function modelsDir(): string | undefined {
  return process.env.QUARRY_MODELS;
}

export async function tempDir(prefix = 'quarry-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
