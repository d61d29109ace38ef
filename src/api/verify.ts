import type { Embedder } from '../embed/embedder.js';
import { describeIdentity, identityDifferences } from '../embed/identity.js';
import { compareFingerprint, FINGERPRINT_MIN_COSINE } from '../embed/probes.js';
import { Collection } from '../store/collection.js';
import { loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface VerifyOptions extends CollectionOptions {
  model?: string;
  threshold?: number;
  embedder?: Embedder;
}

export interface VerifyReport {
  collection: string;
  /** The model the collection was built with. */
  model: string;
  /** The model checked against its fingerprint (the same one unless another was asked for). */
  candidate: string;
  /** How the candidate's identity differs from the stored one; a candidate with any
   *  difference is still refused for search, this check only says how far its output moved. */
  identityDifferences: string[];
  passed: boolean;
  threshold: number;
  minCosine: number;
  meanCosine: number;
  perProbe: Array<{ probe: string; cosine: number }>;
}

/**
 * The seed's stability check: re-embeds the collection's probe sentences with the model as
 * it loads today and compares them with the fingerprint stored at build time. A runtime,
 * tokenizer or weights change that moves any probe below the threshold fails the check.
 * With `model`, checks a candidate model (an upgrade) against the stored fingerprint.
 */
export async function verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
  const name = collectionOf(opts);
  const c = await Collection.open(dataDirOf(opts), name, 'read');
  let embedder: Embedder | undefined;
  try {
    const stored = c.manifest.model;
    embedder = opts.embedder ?? (await loadEmbedder(opts.model ?? refOf(stored), opts.modelsDir));
    const threshold = opts.threshold ?? FINGERPRINT_MIN_COSINE;
    const differences = identityDifferences(stored, embedder.identity);
    if (embedder.identity.dims !== stored.dims) {
      return {
        collection: name,
        model: describeIdentity(stored),
        candidate: describeIdentity(embedder.identity),
        identityDifferences: differences,
        passed: false,
        threshold,
        minCosine: -1,
        meanCosine: -1,
        perProbe: [],
      };
    }
    const cmp = await compareFingerprint(c.manifest.fingerprint, embedder, threshold);
    return {
      collection: name,
      model: describeIdentity(stored),
      candidate: describeIdentity(embedder.identity),
      identityDifferences: differences,
      passed: cmp.passed,
      threshold,
      minCosine: cmp.minCosine,
      meanCosine: cmp.meanCosine,
      perProbe: cmp.perProbe,
    };
  } finally {
    if (embedder && !opts.embedder) await embedder.close();
    await c.close();
  }
}
