import type { Embedder } from './embedder.js';
import type { ModelFingerprint } from './identity.js';
import { cosine } from './pooling.js';

/**
 * Fixed probe sentences for the model fingerprint (the seed's CI check: embed a fixed set
 * before and after any change, fail under 0.95). Varied on purpose: short and long, code,
 * numbers, non-English, so a tokenizer or runtime change shows up somewhere. Never edit this
 * list in place: add a new probe set version instead, old collections keep theirs.
 */
export const PROBE_SET = 'quarry-probes-v1';
export const PROBE_SENTENCES: readonly string[] = [
  'This is an example sentence',
  'The contract was terminated after the employee failed to complete onboarding.',
  'How do I reset my password?',
  'Order ORD-2024-00042 shipped on 2024-03-15 to Berlin.',
  'Mitochondria are the powerhouse of the cell, producing ATP through oxidative phosphorylation.',
  'def add(a, b):\n    return a + b',
  'Le chat dort sur le canapé pendant que la pluie tombe.',
  'semantic search, vector index, reciprocal rank fusion, BM25',
];

/** The cosine every probe must keep against the stored fingerprint (the seed's threshold). */
export const FINGERPRINT_MIN_COSINE = 0.95;

export async function computeFingerprint(embedder: Embedder): Promise<ModelFingerprint> {
  const vecs = await embedder.embed([...PROBE_SENTENCES]);
  return {
    probeSet: PROBE_SET,
    probes: [...PROBE_SENTENCES],
    vectors: vecs.map((v) => Array.from(v, (x) => Math.round(x * 1e6) / 1e6)),
  };
}

export interface FingerprintComparison {
  minCosine: number;
  meanCosine: number;
  perProbe: Array<{ probe: string; cosine: number }>;
  passed: boolean;
}

/** Re-embeds the stored probes with `embedder` and compares them with the stored vectors. */
export async function compareFingerprint(
  stored: ModelFingerprint,
  embedder: Embedder,
  threshold = FINGERPRINT_MIN_COSINE,
): Promise<FingerprintComparison> {
  const now = await embedder.embed(stored.probes);
  const perProbe = stored.probes.map((probe, i) => ({ probe, cosine: cosine(stored.vectors[i], now[i]) }));
  const cos = perProbe.map((p) => p.cosine);
  const minCosine = Math.min(...cos);
  const meanCosine = cos.reduce((a, b) => a + b, 0) / cos.length;
  return { minCosine, meanCosine, perProbe, passed: minCosine >= threshold };
}
