/**
 * The collection's BM25 index, kept in step with its generations the way its vector index
 * is (collection-index.ts): after every write the saved index catches up with the chunks
 * that became live and drops those that left; a reader loads it and catches up with writes
 * committed since. The file is derived data (rebuilt from the stored chunk text when missing,
 * damaged, or analyzed by another analyzer version).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CollectionCorruptError } from '../errors.js';
import { IndexFileError, readIndexFile, writeIndexFile } from '../index/index-file.js';
import { analyze, ANALYZER_VERSION } from '../lexical/analyzer.js';
import { Bm25Index } from '../lexical/bm25-index.js';
import { lexicalText } from '../lexical/lexical-text.js';
import type { Collection } from './collection.js';

export interface LexicalState {
  analyzer: string;
  /** Generation whose live set the saved file holds. */
  generation: number;
  documents: number;
  terms: number;
  builtAt: string;
  /**
   * Chunks that entered or left the live set after `generation`, so are not in the saved file
   * (readers add them on load). Counted when the state is read, never stored.
   */
  pendingChanges?: number;
}

const TEXT_BLOCK = 2048;

/**
 * Changes a write may leave out of the saved BM25 file: the file is written whole, so a
 * one-document write that rewrote it would cost what the collection weighs. Readers analyze
 * the pending chunks' text when they load it (~0.2 ms a chunk on a 2-core CI machine: the
 * limit keeps that a fraction of loading the file), and the limit grows with the index so a
 * save's amortized cost per write stays flat.
 */
export function lexicalDeferLimit(documents: number): number {
  return Math.max(256, Math.ceil(documents * 0.0025));
}

export function lexicalFile(c: Collection): string {
  return join(c.paths.indexes, 'bm25.qlex');
}

export function readLexicalState(c: Collection): LexicalState | null {
  const raw = c.db.getState('bm25');
  if (!raw) return null;
  const state = JSON.parse(raw) as LexicalState;
  return { ...state, pendingChanges: c.db.changeCountSince(state.generation) };
}

export { lexicalText } from '../lexical/lexical-text.js';

/** The state as stored: without the pending count, which is counted when read. */
function stored(s: LexicalState): LexicalState {
  const { pendingChanges: _, ...rest } = s;
  return rest;
}

async function addChunks(c: Collection, index: Bm25Index, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += TEXT_BLOCK) {
    for (const r of c.db.chunkTexts(ids.slice(i, i + TEXT_BLOCK))) index.add(r.id, analyze(lexicalText(r.title, r.text)));
    // let timers and I/O run between blocks on big collections
    await new Promise((r) => setImmediate(r));
  }
}

async function loadSaved(c: Collection, state: LexicalState | null): Promise<Bm25Index | null> {
  const file = lexicalFile(c);
  if (!state || state.analyzer !== ANALYZER_VERSION || !existsSync(file)) return null;
  // A writer replaces the file by rename; a read that straddled the swap fails its checksum
  // and the second one reads the new file whole.
  const read = () => readIndexFile(file, 'bm25');
  const { payload } = await read()
    .catch((e: unknown) => {
      if (e instanceof IndexFileError) return read();
      throw e;
    })
    .catch((e: unknown) => {
      if (!(e instanceof IndexFileError)) throw e;
      throw new CollectionCorruptError(c.name, `BM25 index file indexes/bm25.qlex is damaged: ${String(e.details.problem)}`, {
        file,
        remedy: `it is derived data: \`quarry repair --collection ${c.name}\` rebuilds it from the stored text`,
      });
    });
  return Bm25Index.deserialize(payload);
}

/** Brings the saved BM25 index in step with the live set (incremental when it can be). */
export async function updateLexicalIndex(c: Collection, opts: { rebuild?: boolean } = {}): Promise<LexicalState> {
  const head = c.db.head();
  const prev = readLexicalState(c);
  const usable = !opts.rebuild && prev !== null && prev.analyzer === ANALYZER_VERSION && existsSync(lexicalFile(c)) && c.db.canTellChangesSince(prev.generation);
  const changes = usable ? c.db.changesSince(prev.generation) : null;
  if (changes && changes.added.length === 0 && changes.removed.length === 0) {
    // nothing to index (an upsert of unchanged documents): the saved file already is this
    // version's index, so only the state moves, without reading or rewriting the file
    const state: LexicalState = { ...prev!, generation: head, pendingChanges: 0 };
    c.db.transaction(() => c.db.setState('bm25', JSON.stringify(stored(state))));
    return state;
  }
  const pending = changes ? changes.added.length + changes.removed.length : 0;
  if (changes && pending <= lexicalDeferLimit(prev!.documents)) {
    // a small write: the saved file and its state stay as they are (readers catch up with these changes)
    return { ...prev!, pendingChanges: pending };
  }
  let index = changes ? await loadSaved(c, prev).catch(() => null) : null;
  if (index && changes) {
    index.remove(changes.removed);
    await addChunks(
      c,
      index,
      changes.added.map((r) => r.id),
    );
  } else {
    index = new Bm25Index();
    await addChunks(
      c,
      index,
      c.db.liveVectorRefs().map((r) => r.id),
    );
  }
  const { params, parts } = index.serialize();
  await writeIndexFile(lexicalFile(c), { type: 'bm25', dims: 0, count: index.size, params: { ...params, analyzer: ANALYZER_VERSION } }, parts);
  const state: LexicalState = {
    analyzer: ANALYZER_VERSION,
    generation: head,
    documents: index.size,
    terms: index.vocabularySize,
    builtAt: new Date().toISOString(),
  };
  c.db.transaction(() => c.db.setState('bm25', JSON.stringify(state)));
  return state;
}

/**
 * The BM25 index for one query session: the saved one caught up with later writes, or (for
 * a collection written before it had one) built in memory from the stored chunk text.
 */
export async function openLexicalIndex(c: Collection): Promise<{ index: Bm25Index; generation: number }> {
  const state = readLexicalState(c);
  const pinned = c.pinnedGeneration;
  // A saved index newer than the version a reader is pinned to cannot be rewound: rebuild it.
  // Nor can one older than the history gc kept be caught up: rebuilt then too.
  const stale = state !== null && ((pinned !== undefined && state.generation > pinned) || !c.db.canTellChangesSince(state.generation));
  const saved = stale ? null : await loadSaved(c, state);
  const { generation, added, removed, live } = c.db.snapshot(() => ({
    generation: pinned ?? c.db.head(),
    ...(saved && state ? { ...c.db.changesSince(state.generation, pinned), live: null } : { added: [], removed: [], live: c.db.liveVectorRefs(pinned) }),
  }));
  const index = saved ?? new Bm25Index();
  index.remove(removed);
  await addChunks(
    c,
    index,
    (live ?? added).map((r) => r.id),
  );
  return { index, generation };
}
