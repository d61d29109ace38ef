import { InvalidInputError } from '../errors.js';
import { listSourceFiles, loadPaths, type LoadOptions } from '../ingest/index.js';
import { runIngest, type IngestOptions, type IndexReport } from './ingest.js';

export { checkRequestedModel, type IndexProgress, type IndexReport } from './ingest.js';

export interface IndexOptions extends IngestOptions {
  load?: LoadOptions;
}

/**
 * Indexes files and folders into a collection: load, chunk by the model's tokens, embed,
 * commit in batches (the shared pipeline in ingest.ts). Unchanged documents (same content
 * hash, model and chunking) are skipped. Each document becomes visible in one step after its
 * last chunk is committed, so an interrupted run never leaves a half-indexed document behind.
 */
export async function indexPaths(paths: string[], opts: IndexOptions = {}): Promise<IndexReport> {
  const started = performance.now();
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidInputError('no paths to index were given');
  return runIngest(
    {
      items: () => loadPaths(paths, opts.load),
      bytesTotal: async () => (await listSourceFiles(paths)).reduce((s, f) => s + f.bytes, 0),
      note: `indexed ${paths.join(', ')}`,
    },
    opts,
    started,
  );
}
