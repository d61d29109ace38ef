import type { Embedder } from '../embed/embedder.js';
import type { Admission } from './admission.js';
import type { KeyStore } from './keys.js';
import type { CollectionRegistry } from './registry.js';
import type { EvaluationJobs } from './evaluation-jobs.js';
import type { Redact } from './http-errors.js';

/** What every route module gets. */
export interface ServerContext {
  dataDir: string;
  modelsDir?: string;
  registry: CollectionRegistry;
  keys: KeyStore;
  datasetsRoot?: string;
  ingestBatchChunks?: number;
  jobs: EvaluationJobs;
  /** Bounds the searches running and waiting (429 past it). */
  admission: Admission;
  /** The model loader handed in (tests), for verbs that load models themselves (reindex, promote). */
  loadEmbedder?: (ref: string) => Promise<Embedder>;
  /** Takes the server's paths out of a message meant for a client (redact.ts). */
  redact: Redact;
  /** Keeps background work (a reindex job) to wait for on shutdown. */
  track: (work: Promise<unknown>) => void;
}
