/** What the local cluster runs and where its pieces live. */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned together: k-NN 2.19.1.0 refuses any other core version. */
export const OPENSEARCH_VERSION = '2.19.1';
export const KNN_VERSION = '2.19.1.0';

/** The Maven POMs shipped with quarry (scripts/cluster/poms); this file runs from dist/src/cluster. */
export const POMS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'cluster', 'poms');

/** `$QUARRY_CACHE` when set and non-empty, else `~/.cache/quarry` (the models' parent folder). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.QUARRY_CACHE?.trim();
  return fromEnv ? fromEnv : join(homedir(), '.cache', 'quarry');
}

/** The assembled distribution: outside any clone, shared by every cluster folder. */
export function distDir(cacheDir: string): string {
  return join(cacheDir, `opensearch-${OPENSEARCH_VERSION}`);
}
