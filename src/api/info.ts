import type { ModelIdentity } from '../embed/identity.js';
import { Collection } from '../store/collection.js';
import { DEFAULT_RECALL_FLOOR, readAnnState, type AnnState } from '../store/collection-index.js';
import { readLexicalState, type LexicalState } from '../store/collection-lexical.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface CollectionInfo {
  collection: string;
  path: string;
  createdAt: string;
  documents: number;
  chunks: number;
  model: ModelIdentity;
  fingerprint: { probeSet: string; probes: number };
  chunking: ChunkingSettings;
  index: IndexSettings & { vectors: number };
  /** The approximate index as built: type, params, measured recall@10, cold-start fallback. */
  ann: AnnState & { recallFloor: number };
  /** The BM25 index as last saved (null until a write built it; search then builds it in memory). */
  lexical: LexicalState | null;
  /** The current version. */
  version: number;
  disk: { totalBytes: number; vectorBytes: number; metadataBytes: number };
}

/** What a collection holds and how it was built, read from disk without loading a model. */
export async function info(opts: CollectionOptions = {}): Promise<CollectionInfo> {
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'read');
  try {
    const counts = c.db.counts();
    const disk = await c.diskUsage();
    const m = c.manifest;
    return {
      collection: c.name,
      path: c.paths.dir,
      createdAt: m.createdAt,
      documents: counts.documents,
      chunks: counts.chunks,
      model: m.model,
      fingerprint: { probeSet: m.fingerprint.probeSet, probes: m.fingerprint.probes.length },
      chunking: m.chunking,
      index: { ...m.index, vectors: counts.chunks },
      ann: annStateOf(c, counts.chunks),
      lexical: readLexicalState(c),
      version: c.db.head(),
      disk: { totalBytes: disk.total, vectorBytes: disk.vectors, metadataBytes: disk.metadata },
    };
  } finally {
    await c.close();
  }
}

/** The index as built, with its recall floor; a flat index (no state saved) is exact: recall 1. */
export function annStateOf(c: Collection, chunks: number): CollectionInfo['ann'] {
  const m = c.manifest;
  return {
    ...(readAnnState(c) ?? {
      type: 'flat' as const,
      params: {},
      generation: c.db.head(),
      fallback: null,
      builtAt: m.createdAt,
      recallAt10: 1,
      recallQueries: 0,
      vectors: chunks,
      memoryBytes: chunks * m.model.dims * 4,
    }),
    recallFloor: m.index.recallFloor ?? DEFAULT_RECALL_FLOOR,
  };
}
