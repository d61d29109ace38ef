/** The shapes of one ingest run: its settings, progress, report and source (api/ingest.ts runs it). */
import type { Embedder } from '../embed/embedder.js';
import type { LoadItem, LoadProblem } from '../ingest/types.js';
import type { AnnState } from '../store/collection-index.js';
import type { IndexSettings } from '../store/manifest.js';
import type { FolderSync } from './folder-sync.js';
import type { CollectionOptions } from './options.js';

/** What a new collection is made with (model, chunking, index). */
export interface CollectionSettings {
  /** Model reference; default: the collection's own model, or all-MiniLM-L6-v2 for a new one. */
  model?: string;
  chunkTokens?: number;
  overlapTokens?: number;
  /** Vector index type and parameters (default flat); changing them on an existing collection rebuilds the index. */
  index?: IndexSettings;
  /** A loaded embedder to reuse (its identity is still checked). */
  embedder?: Embedder;
}

export interface IngestOptions extends CollectionOptions, CollectionSettings {
  /** Chunks embedded and committed together (default 256). */
  batchChunks?: number;
  /** Notes from the index build (cold-start fallback, recall under the floor). */
  onNote?: (note: string) => void;
  onProgress?: (p: IndexProgress) => void;
  onProblem?: (p: LoadProblem) => void;
  /** Called after each commit with the documents it made live: they survive any crash from now on. */
  onCommit?: (docs: Array<{ docId: string; contentHash: string }>) => void;
  /**
   * Stops the run early (Ctrl-C in the CLI): between batches, what was committed is sealed as
   * a version (nothing partial is visible; no folder sync), and the run throws
   * IndexInterruptedError saying what was committed. The reason is the signal's `reason` when
   * it is a string (e.g. "SIGINT").
   */
  signal?: AbortSignal;
}

export interface IndexProgress {
  /**
   * Source bytes whose chunks are committed (or skipped as unchanged): it moves inside a large
   * file batch by batch, estimated from where each chunk ends in the file.
   */
  bytesDone: number;
  bytesTotal: number;
  documents: number;
  chunks: number;
}

export interface IndexReport {
  collection: string;
  created: boolean;
  model: string;
  documentsAdded: number;
  documentsUpdated: number;
  documentsUnchanged: number;
  /** Documents removed because their files are gone from a folder or file list indexed again (folder sync). */
  documentsRemoved: number;
  chunksWritten: number;
  /** Chunks whose vector came from the embedding cache (same model, same input text). */
  cacheHits: number;
  /** Chunks the model actually embedded in this run. */
  chunksEmbedded: number;
  /** The generation this run sealed (null when nothing changed). */
  generation: number | null;
  /** The vector index after the run, with its measured recall (null for flat). */
  ann: AnnState | null;
  notes: string[];
  problems: LoadProblem[];
  elapsedMs: number;
}

/** What one ingest run reads: its items, their total size (for progress) and the version's note. */
export interface IngestSource {
  items: () => AsyncIterable<LoadItem>;
  bytesTotal: () => Promise<number>;
  note: string;
  /** Mirror these roots: documents under them whose files are gone are removed in the run's version. */
  sync?: FolderSync;
}

/** Vectors of embedding inputs held elsewhere (another generation built with the same model). */
export interface ExternalVectorCache {
  get(embedHash: string): Promise<Float32Array | null>;
}
