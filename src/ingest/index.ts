/**
 * The ingest stage: turns files into LoadItems (documents with normalized text in sections,
 * or problems that name the path and what to do). Nothing here throws for a bad input file;
 * only invalid options throw (InvalidInputError).
 */
import { loadWithFormat } from './load-file.js';
import { resolveLoadOptions, type LoadOptions } from './options.js';
import { walkSources, type SourceFile } from './walk.js';
import type { LoadItem } from './types.js';

export { normalizeText } from './normalize.js';
export { SUPPORTED_EXTENSIONS } from './formats.js';
export type { LoadOptions } from './options.js';
export type { SourceFile } from './walk.js';
export type { LoadItem, LoadProblem, LoadedDocument, SourceFormat, TextSection } from './types.js';

/**
 * Loads files and folders (walked recursively, see walk.ts for the order and what is
 * skipped). Yields documents and problems as it goes; it never throws for a bad file.
 */
export async function* loadPaths(paths: string[], opts?: LoadOptions): AsyncGenerator<LoadItem> {
  const resolved = resolveLoadOptions(opts);
  for await (const item of walkSources(paths)) {
    if (item.kind === 'file') yield* loadWithFormat(item.file.path, item.file.format, resolved);
    else yield item;
  }
}

/** Loads one file (a JSONL file gives one document per record). A folder is a problem here. */
export async function* loadFile(path: string, opts?: LoadOptions): AsyncGenerator<LoadItem> {
  const resolved = resolveLoadOptions(opts);
  for await (const item of walkSources([path], false)) {
    if (item.kind === 'file') yield* loadWithFormat(item.file.path, item.file.format, resolved);
    else yield item;
  }
}

/**
 * The files `loadPaths(paths)` would load, with their sizes (for progress reporting), without
 * reading them. Paths that cannot be walked are left out here; loadPaths reports them.
 */
export async function listSourceFiles(paths: string[]): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const item of walkSources(paths)) if (item.kind === 'file') files.push(item.file);
  return files;
}
