/**
 * The one place that decides whether a model may be used with a collection: its identity
 * must be the stored one (search, evaluation), and to serve or write a collection it must also
 * still reproduce the stored fingerprint. Every caller (ingest, repair, generations, the
 * server's registry) goes through here, so the refusal and its message are the same everywhere.
 */
import { ModelDriftError, ModelMismatchError } from '../errors.js';
import type { Embedder } from './embedder.js';
import { describeIdentity, identityDifferences, type ModelFingerprint, type ModelIdentity } from './identity.js';
import { parseModelRef } from './models/index.js';
import { compareFingerprint, FINGERPRINT_MIN_COSINE } from './probes.js';

/**
 * Refuses to mix vector spaces: throws ModelMismatchError naming both models when the
 * embedder's identity differs from the one stored with the collection.
 */
export function assertSameModel(collection: string, stored: ModelIdentity, actual: ModelIdentity): void {
  const diffs = identityDifferences(stored, actual);
  if (diffs.length > 0) {
    throw new ModelMismatchError(collection, describeIdentity(stored), describeIdentity(actual), diffs);
  }
}

/** A requested model of another id or variant is refused before any weights are loaded. */
export function checkRequestedModel(collection: string, stored: ModelIdentity, ref: string): void {
  const { id, variant } = parseModelRef(ref);
  const requested = { ...stored, id, variant: variant ?? stored.variant };
  if (id !== stored.id || requested.variant !== stored.variant) {
    assertSameModel(collection, stored, requested);
  }
}

/**
 * May `embedder` serve or write the collection whose manifest holds `stored`? Its identity must
 * match (ModelMismatchError) and its output must still reproduce the stored fingerprint
 * (ModelDriftError): a runtime or weights change would otherwise mix vector spaces silently.
 */
export async function assertTrustedModel(
  collection: string,
  stored: { model: ModelIdentity; fingerprint: ModelFingerprint },
  embedder: Embedder,
): Promise<void> {
  assertSameModel(collection, stored.model, embedder.identity);
  const fp = await compareFingerprint(stored.fingerprint, embedder);
  if (!fp.passed) throw new ModelDriftError(collection, describeIdentity(stored.model), fp.minCosine, FINGERPRINT_MIN_COSINE);
}
