/** Where the ANN benchmark reads its corpus and keeps its caches (outside the repository). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SHARED_DIR } from '../support.js';

export const MODEL_REF = 'sentence-transformers/all-MiniLM-L6-v2:fp32';
export const CORPUS_PATH = join(SHARED_DIR, 'datasets', 'wikipedia-en-passages', 'corpus.jsonl');
export const RESULTS_PATH = join(REPO_ROOT, 'bench', 'results', 'ann.json');

/** `$QUARRY_BENCH_CACHE`, else ~/.cache/quarry/bench. */
export function benchCacheDir(): string {
  return process.env.QUARRY_BENCH_CACHE?.trim() || join(homedir(), '.cache', 'quarry', 'bench');
}

/** Where run.ts installs LanceDB's Node package (bench/ann/lancedb-peer/package.json). */
export function lancedbPeerDir(): string {
  return join(benchCacheDir(), 'lancedb-node');
}
