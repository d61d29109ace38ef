/**
 * The lineage keys recorded with every document version (doc_versions.embedded_with and
 * .chunking) and every generation (generations.model): written by ingest, compared by ingest
 * (unchanged documents are skipped) and by the system card (mixed lineage). One definition,
 * so what is written and what it is compared with cannot drift apart.
 */
import type { ModelIdentity } from '../embed/identity.js';
import type { ChunkingSettings } from './manifest.js';

/** The model a chunk was embedded with: id, variant and the start of the weights' sha256. */
export function modelLineage(m: ModelIdentity): string {
  return `${m.id}:${m.variant}@${m.weightsSha256.slice(0, 12)}`;
}

/** The chunking a document was split with. */
export function chunkingLineage(c: ChunkingSettings): string {
  return JSON.stringify({ chunkTokens: c.chunkTokens, overlapTokens: c.overlapTokens });
}
