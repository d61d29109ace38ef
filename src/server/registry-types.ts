/** The shapes of the server's collection registry (registry.ts): its options, views, slots and statuses. */
import type { FastifyBaseLogger } from 'fastify';
import type { Embedder } from '../embed/embedder.js';
import type { Reranker } from '../retrieve/rerank.js';
import type { SearchSession } from '../retrieve/session.js';
import type { Collection } from '../store/collection.js';

export type CollectionState = 'loading' | 'ready' | 'refused' | 'failed';

export interface RegistryOptions {
  dataDir: string;
  modelsDir?: string;
  /** Loads an embedding model by reference (default: verified files from the models folder). */
  loadEmbedder?: (ref: string) => Promise<Embedder>;
  /** Loads the tier-2 model the first time a search asks for rerank. */
  loadReranker?: () => Promise<Reranker>;
  /** Runs before a collection's warm-up query (tests make the warm-up observable with it). */
  beforeWarmup?: (collection: string) => Promise<void>;
  /** Chunks per commit of server-side ingests (default 256). */
  ingestBatchChunks?: number;
  /** Share of searches (0..1) also answered by a collection's shadow generation in the background, to compare (default 0). */
  canaryShare?: number;
  /** How long a collection refused for damaged files stays refused before a request verifies it again (default 10 s). */
  damagedRetryMs?: number;
  log?: FastifyBaseLogger;
  /** Takes the server's paths out of an error a client will read (see redact.ts). */
  redact?: (message: string) => string;
}

/** One version of a collection as searches see it. */
export interface View {
  collection: Collection;
  session: SearchSession;
  /** The model of the view's generation (a promotion may change it from one view to the next). */
  embedder: Embedder;
  /** The generation folder it reads: a promotion or generation rollback changes it. */
  dir: string;
  generation: number;
  refs: number;
  retired: boolean;
}

/** The shadow generation, opened for canary searches. */
export interface ShadowView {
  id: number;
  view: View;
}

/** The canary's running sums for one shadow generation (canary.ts). */
export interface CanaryTally {
  shadow: number;
  compared: number;
  failed: number;
  overlapSum: number;
  shiftSum: number;
  shiftCount: number;
}

/** What the canary has seen of a collection's shadow so far. */
export interface CanaryStats {
  shadow: number;
  compared: number;
  failed: number;
  meanOverlapAt10: number | null;
  meanTop1ScoreShift: number | null;
}

export interface CollectionStatus {
  name: string;
  state: CollectionState;
  /** The version searches see (ready collections). */
  version?: number;
  model?: string;
  /** Why a refused or failed collection does not serve. */
  error?: { code: string; message: string };
}

export interface Slot {
  name: string;
  state: CollectionState;
  error?: { code: string; message: string };
  embedder: Embedder | null;
  /** The generation folder `embedder` was checked against. */
  embedderDir?: string;
  view: View | null;
  loading: Promise<void> | null;
  refreshing: Promise<void> | null;
  /** Tail of the chain of writes, so they run one at a time. */
  writes: Promise<unknown>;
  shadow: ShadowView | null;
  shadowLoading: Promise<void> | null;
  canaryInFlight: number;
  canary: CanaryTally | null;
  /** When its files failed verification (the next request after DAMAGED_RETRY_MS verifies again). */
  failedAt?: number;
}

/** A search's hold on a view: release it when the answer is built. */
export interface Lease {
  view: View;
  embedder: Embedder;
  release: () => void;
}
