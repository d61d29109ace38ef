import { readFile } from 'node:fs/promises';
import type { ModelFingerprint, ModelIdentity } from '../embed/identity.js';
import { CollectionCorruptError } from '../errors.js';
import type { IndexType } from '../index/vector-index.js';
import { writeFileAtomic } from './atomic-file.js';

export const MANIFEST_FORMAT = 'quarry-collection';
export const MANIFEST_VERSION = 1;

export interface ChunkingSettings {
  chunkTokens: number;
  overlapTokens: number;
}

export interface IndexSettings {
  type: IndexType;
  /** Construction and default search parameters of the index type (e.g. nlist, nprobe). */
  params?: Record<string, number | string>;
  /** Measured recall@10 under which a build warns loudly (default 0.9). */
  recallFloor?: number;
}

/** manifest.json: what a collection is. Written at creation, replaced atomically on change. */
export interface CollectionManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  name: string;
  createdAt: string;
  model: ModelIdentity;
  fingerprint: ModelFingerprint;
  chunking: ChunkingSettings;
  index: IndexSettings;
}

export async function readManifest(path: string, name: string): Promise<CollectionManifest> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    throw new CollectionCorruptError(name, `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  let m: CollectionManifest;
  try {
    m = JSON.parse(raw) as CollectionManifest;
  } catch {
    throw new CollectionCorruptError(name, `${path} is not valid JSON (truncated or overwritten?)`, { file: path });
  }
  if (m.format !== MANIFEST_FORMAT) {
    throw new CollectionCorruptError(name, `${path} is not a quarry collection manifest`, { file: path });
  }
  if (m.formatVersion > MANIFEST_VERSION) {
    throw new CollectionCorruptError(
      name,
      `${path} has format version ${m.formatVersion}; this quarry reads up to ${MANIFEST_VERSION}, upgrade quarry`,
      { file: path },
    );
  }
  if (!m.model?.weightsSha256 || !m.fingerprint?.vectors?.length) {
    throw new CollectionCorruptError(name, `${path} lacks the model identity or fingerprint`, { file: path });
  }
  return m;
}

export async function writeManifest(path: string, m: CollectionManifest): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(m, null, 2) + '\n');
}
