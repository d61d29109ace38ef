import { Collection } from '../store/collection.js';
import { checkCollection, type CheckReport } from '../store/integrity.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

/** Integrity check of a collection; `ok` is false with the list of what is wrong. */
export async function check(opts: CollectionOptions = {}): Promise<CheckReport> {
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'read');
  try {
    return await checkCollection(c);
  } finally {
    await c.close();
  }
}
