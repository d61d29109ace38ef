import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidInputError, PathNotFoundError } from '../errors.js';
import { listSourceFiles, loadPaths, type LoadOptions } from '../ingest/index.js';
import { FolderSync } from './folder-sync.js';
import { runIngest, type IngestOptions, type IndexReport } from './ingest.js';

export { checkRequestedModel } from '../embed/trust.js';
export { type IndexProgress, type IndexReport } from './ingest.js';

export interface IndexOptions extends IngestOptions {
  load?: LoadOptions;
  /**
   * Folder sync (default true): documents from files under the given paths whose files are
   * gone are removed in the run's version. false keeps them (`--no-prune`).
   */
  prune?: boolean;
}

/**
 * Indexes files and folders into a collection: load, chunk by the model's tokens, embed,
 * commit in batches (the shared pipeline in ingest.ts). Unchanged documents (same content
 * hash, model and chunking) are skipped. Each document becomes visible in one step after its
 * last chunk is committed, so an interrupted run never leaves a half-indexed document behind.
 * Indexing paths again mirrors them (see folder-sync.ts) unless `prune` is false. When none
 * of the paths exists, PathNotFoundError is thrown before anything is created.
 */
export async function indexPaths(paths: string[], opts: IndexOptions = {}): Promise<IndexReport> {
  const started = performance.now();
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidInputError('no paths to index were given');
  const roots = paths.map((p) => resolve(p));
  const missing = await missingPaths(roots);
  if (missing.length === roots.length) throw new PathNotFoundError(missing);
  return runIngest(
    {
      items: () => loadPaths(paths, opts.load),
      bytesTotal: async () => (await listSourceFiles(paths)).reduce((s, f) => s + f.bytes, 0),
      note: `indexed ${paths.join(', ')}`,
      sync: opts.prune === false ? undefined : new FolderSync(roots),
    },
    opts,
    started,
  );
}

/** The paths that do not exist (a link to nothing counts as missing); other errors are the walk's to report. */
async function missingPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    try {
      await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') out.push(p);
    }
  }
  return out;
}
