/** Options every verb shares: where collections live and which one. */
export interface CollectionOptions {
  /** Folder holding collections (default ./.quarry). */
  dataDir?: string;
  /** Collection name (default "default"). */
  collection?: string;
  /** Folder holding provisioned models (default $QUARRY_MODELS or ~/.cache/quarry/models). */
  modelsDir?: string;
  /** Who does it, for the audit log (default local:<os user>); the server passes key:<id>. */
  actor?: string;
}

export const DEFAULT_DATA_DIR = '.quarry';
export const DEFAULT_COLLECTION = 'default';
export const DEFAULT_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

export function dataDirOf(o: CollectionOptions): string {
  return o.dataDir ?? DEFAULT_DATA_DIR;
}

export function collectionOf(o: CollectionOptions): string {
  return o.collection ?? DEFAULT_COLLECTION;
}
