/** A collection's version history: roll the live set back to an earlier version, forget old ones. */
import { InvalidInputError } from '../errors.js';
import type { Collection } from './collection.js';
import type { GenerationRow } from './metadata-db.js';

/**
 * Makes the live set equal to generation `target`'s, as a new generation (history is never
 * rewritten, so a rollback can itself be rolled back).
 */
export function rollbackTo(c: Collection, target: number): GenerationRow {
  const row = c.db.getGeneration(target);
  if (!row) {
    const kept = c.db.generations().map((g) => g.id);
    throw new InvalidInputError(
      `version ${target} does not exist or was removed by gc; versions kept: ${kept.length ? kept.join(', ') : 'none'}`,
      { field: 'version' },
    );
  }
  if (target === c.db.head()) throw new InvalidInputError(`version ${target} is already the current one`, { field: 'version' });
  const gen = c.beginWrite();
  c.db.transaction(() => {
    const then = c.db.liveDocs(target);
    const now = c.db.liveDocs();
    for (const [docId, version] of now) {
      if (then.get(docId) !== version) c.db.closeLive(docId, gen);
    }
    for (const [docId, version] of then) {
      if (now.get(docId) !== version) c.db.openLive(docId, version, gen);
    }
  });
  return c.endWrite(gen, 'rollback', `rolled back to version ${target}`) ?? c.db.getGeneration(c.db.head())!;
}

/** Keeps the newest `keep` generations (at least 1: the current one) and forgets the rest. */
export function dropOldGenerations(c: Collection, keep: number): { generations: number; versions: number; chunks: number } {
  if (!Number.isInteger(keep) || keep < 1) throw new InvalidInputError(`keep must be an integer of at least 1, got ${keep}`, { field: 'keep' });
  const ids = c.db.generations().map((g) => g.id);
  if (ids.length <= keep) return { generations: 0, versions: 0, chunks: 0 };
  const oldestKept = ids[ids.length - keep];
  return c.db.transaction(() => c.db.dropHistoryBefore(oldestKept));
}
