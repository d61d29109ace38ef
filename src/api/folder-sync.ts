/**
 * Folder sync: indexing folders or files that were indexed before mirrors them. A document
 * that came from a file under one of the run's roots, and whose file is gone, is removed in
 * the run's own version (a rollback brings it back, as for any version). Written by hand:
 * which stored documents a walk stands for is quarry's own rule, decided from stored lineage:
 *
 *  - "under a root" is the stored source path equal to the root or below it: the root plus
 *    the path separator is the prefix, so `docs2/a.md` is never under `docs`;
 *  - records handed over in memory (upsertDocuments, the HTTP API) have no file and are
 *    never touched, nor are documents from files outside the roots;
 *  - nothing is removed under a path the run could not read (a root or folder that is
 *    missing or unreadable, a file that failed to load): an unmounted disk is not a deletion;
 *  - a file that still exists but was not loaded (hidden, in node_modules, reached twice
 *    through a link) keeps its documents; only a file that is gone loses them;
 *  - a JSONL file that loaded without a problem is mirrored record by record: a record no
 *    longer in it is removed.
 */
import { lstat } from 'node:fs/promises';
import { sep } from 'node:path';

/** The prefix of every path strictly under `root`. */
export function rootPrefix(root: string): string {
  return root.endsWith(sep) ? root : root + sep;
}

/** Whether `path` is `root` or lies under it (absolute, resolved paths). */
export function isUnderRoot(path: string, root: string): boolean {
  return path === root || path.startsWith(rootPrefix(root));
}

/** A stored document as folder sync sees it. */
export interface StoredFileDocument {
  doc_id: string;
  source: string;
}

export class FolderSync {
  private readonly seenDocs = new Set<string>();
  private readonly loadedSources = new Set<string>();
  private readonly unreadable: string[] = [];

  /** `roots`: the run's resolved paths (folders or files). */
  constructor(readonly roots: readonly string[]) {}

  /** A document the run loaded (new, changed or unchanged). */
  noteDocument(docId: string, source: string): void {
    this.seenDocs.add(docId);
    this.loadedSources.add(source);
  }

  /** A path the run could not read: nothing under it is removed. */
  noteProblem(path: string): void {
    this.unreadable.push(path);
  }

  /**
   * The documents to remove: live file documents under the roots (`liveUnder(root, prefix)`
   * lists them from the store) that the run did not load and whose file is gone.
   */
  async stale(liveUnder: (root: string, prefix: string) => StoredFileDocument[]): Promise<string[]> {
    const out = new Set<string>();
    for (const root of this.roots) {
      for (const d of liveUnder(root, rootPrefix(root))) {
        if (out.has(d.doc_id) || this.seenDocs.has(d.doc_id) || !isUnderRoot(d.source, root)) continue;
        if (this.unreadable.some((p) => isUnderRoot(d.source, p))) continue;
        if (this.loadedSources.has(d.source) || (await isGone(d.source))) out.add(d.doc_id);
      }
    }
    return [...out];
  }
}

/** Whether nothing is at `path` any more (an error other than "not there" keeps the document). */
async function isGone(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}
