import { CollectionCorruptError } from '../errors.js';
import { Collection } from '../store/collection.js';
import { checkCollection, unopenableReport, type CheckReport } from '../store/integrity.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

/** Integrity check of a collection; `ok` is false with the list of what is wrong. */
export async function check(opts: CollectionOptions = {}): Promise<CheckReport> {
  const name = collectionOf(opts);
  let c: Collection;
  try {
    c = await Collection.open(dataDirOf(opts), name, 'read');
  } catch (e) {
    // a meta.sqlite SQLite cannot even open is damage to report, like any other
    if (e instanceof CollectionCorruptError) return unopenableReport(name, e);
    throw e;
  }
  try {
    return await checkCollection(c);
  } finally {
    await c.close();
  }
}
