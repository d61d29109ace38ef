/**
 * The one write pipeline behind `indexPaths` (files and folders) and `upsertDocuments`
 * (documents handed over in memory, as the HTTP API does): open or create the collection
 * under its writer lock, check the model and chunking against what is stored, then chunk by
 * the model's tokens, embed (reusing the embedding cache), commit in batches under one write
 * generation, and bring the vector and BM25 indexes in step. Each document becomes visible
 * in one step after its last chunk is committed, so an interrupted run never leaves half a
 * document behind. Its parts: ingest-open.ts (create or open, the model checked),
 * ingest-batches.ts (the pipelined batch loop), ingest-types.ts (settings, progress, report).
 */
import type { Embedder } from '../embed/embedder.js';
import { DiskFullError, isDiskFull } from '../errors.js';
import { recordIngest } from '../observe/metrics.js';
import type { Collection } from '../store/collection.js';
import { readAnnState, updateSearchIndexes } from '../store/collection-index.js';
import { readLexicalState } from '../store/collection-lexical.js';
import { ingestItems } from './ingest-batches.js';
import { openForIngest } from './ingest-open.js';
import type { ExternalVectorCache, IndexReport, IngestOptions, IngestSource } from './ingest-types.js';

export type { CollectionSettings, ExternalVectorCache, IndexProgress, IndexReport, IngestOptions, IngestSource } from './ingest-types.js';
export { createWithModel } from './ingest-open.js';

/** Runs one ingest: open or create the collection, write the source's documents, update the indexes. */
export async function runIngest(source: IngestSource, opts: IngestOptions, started = performance.now()): Promise<IndexReport> {
  const { collection, embedder, ownEmbedder, created } = await openForIngest(opts);
  try {
    let rebuild = false;
    if (!created && opts.index && JSON.stringify(opts.index) !== JSON.stringify(collection.manifest.index)) {
      await collection.setManifest({ ...collection.manifest, index: opts.index });
      rebuild = true;
    }
    const report = await ingestInto(collection, embedder, source, opts, { created, rebuild, started });
    recordIngest(collection.name, report);
    return report;
  } finally {
    if (ownEmbedder) await embedder.close();
    await collection.close();
  }
}

/**
 * Writes a source's documents into a collection already open for writing with a checked
 * embedder, then brings its vector and BM25 indexes in step. A reindex builds a shadow
 * generation through this too, with `externalCache` reading vectors other generations hold.
 */
export async function ingestInto(
  collection: Collection,
  embedder: Embedder,
  source: IngestSource,
  opts: IngestOptions & { externalCache?: ExternalVectorCache },
  how: { created?: boolean; rebuild?: boolean; started?: number } = {},
): Promise<IndexReport> {
  const started = how.started ?? performance.now();
  const report = await ingestItems(collection, embedder, source, opts, how.created ?? false, started);
  if (report.generation !== null || how.rebuild || !readAnnState(collection) || !readLexicalState(collection)) {
    const { notes } = await updateSearchIndexes(collection, { rebuild: how.rebuild }).catch((e: unknown) => {
      if (!isDiskFull(e)) throw e;
      // the version is sealed; readers catch up from the stored vectors until the index files are rewritten
      const path = (e as { path?: string }).path ?? collection.paths.indexes;
      throw new DiskFullError(
        path,
        report.generation === null
          ? 'no version was written; the search index files were not rebuilt'
          : `version ${report.generation} was committed, but its search index files were not brought up to date (searches read the new documents from the stored vectors until a later write or \`quarry compact\` rewrites them)`,
        { cause: e },
      );
    });
    report.notes.push(...notes);
    for (const n of notes) opts.onNote?.(n);
  }
  report.ann = readAnnState(collection);
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}
