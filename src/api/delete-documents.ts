import { InvalidInputError } from '../errors.js';
import { Collection } from '../store/collection.js';
import { updateSearchIndexes } from '../store/collection-index.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface DeleteReport {
  collection: string;
  deleted: string[];
  notFound: string[];
  generation: number | null;
}

/**
 * Removes documents by id from the live set (and so from every index) in one new version.
 * Their data stays in earlier versions for rollback until `gc` drops those versions;
 * `compact` then reclaims the bytes.
 */
export async function deleteDocuments(docIds: string[], opts: CollectionOptions = {}): Promise<DeleteReport> {
  if (!Array.isArray(docIds) || docIds.length === 0 || docIds.some((d) => typeof d !== 'string' || d.length === 0)) {
    throw new InvalidInputError('give one or more document ids to delete', { field: 'docIds' });
  }
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'write');
  try {
    const gen = c.beginWrite();
    const deleted = c.unpublish([...new Set(docIds)], gen);
    const g = c.endWrite(gen, 'delete', `deleted ${deleted.length} document(s)`);
    if (g) await updateSearchIndexes(c);
    return { collection: c.name, deleted, notFound: docIds.filter((d) => !deleted.includes(d)), generation: g?.id ?? null };
  } finally {
    await c.close();
  }
}
