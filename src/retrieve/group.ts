/**
 * From ranked chunks to ranked documents: a document ranks where its best chunk does (MaxP,
 * Dai & Callan 2019), and its other chunks in the list follow it as passages, best first.
 * The one grouping behind both `search()` (documents by default) and the evaluation harness
 * (`quarry eval`, the promotion gate), so what a user sees and what we measure agree.
 */

export interface DocumentGroup<T> {
  docId: string;
  /** The document's best chunk: its snippet and its score. */
  best: T;
  /** Its other chunks in the list, in rank order (at most `passages` of them). */
  passages: T[];
}

export interface GroupOptions {
  /** Stop after this many documents (default: all). */
  limit?: number;
  /** Other passages kept per document (default 3). */
  passages?: number;
  /** Leave out a document (e.g. BEIR's ignore_identical_ids: the query's own id). */
  skip?: (docId: string) => boolean;
}

/** Chunks listed under a document besides its best one, unless asked otherwise. */
export const DEFAULT_PASSAGES = 3;

/**
 * Groups `hits` (best first) by document, in the order of each document's best chunk.
 * A hit whose document `docOf` does not know is left out.
 */
export function groupByDocument<T>(hits: readonly T[], docOf: (hit: T) => string | undefined, opts: GroupOptions = {}): DocumentGroup<T>[] {
  const limit = opts.limit ?? Infinity;
  const maxPassages = opts.passages ?? DEFAULT_PASSAGES;
  const groups: DocumentGroup<T>[] = [];
  const byDoc = new Map<string, DocumentGroup<T>>();
  for (const h of hits) {
    const d = docOf(h);
    if (d === undefined || opts.skip?.(d)) continue;
    const g = byDoc.get(d);
    if (g) {
      if (g.passages.length < maxPassages) g.passages.push(h);
      continue;
    }
    // the list is complete once `limit` documents are in, though their later passages still count
    if (groups.length === limit) continue;
    const fresh = { docId: d, best: h, passages: [] };
    byDoc.set(d, fresh);
    groups.push(fresh);
  }
  return groups;
}
