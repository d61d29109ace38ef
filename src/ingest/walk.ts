import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { SUPPORTED_EXTENSIONS, formatOf } from './formats.js';
import { problem, problemFromError } from './problems.js';
import type { LoadItem, SourceFormat } from './types.js';

/** A file that ingest will load. */
export interface SourceFile {
  /** Absolute path (path.resolve of what was given or found; symlinks not resolved). */
  path: string;
  bytes: number;
  format: SourceFormat;
}

export type WalkItem = { kind: 'file'; file: SourceFile } | LoadItem;

/*
 * How folders are walked:
 *  - depth-first, entries of each folder sorted by name (UTF-16 code-unit order, not the
 *    locale's), so the same tree always loads in the same order on every machine;
 *  - entries whose name starts with '.' and folders named node_modules are skipped (they
 *    are still loaded when named explicitly);
 *  - files with an unsupported extension are skipped silently; named explicitly, they are
 *    reported as UNSUPPORTED; so are FIFOs, sockets and devices (never opened: reading a
 *    FIFO would block);
 *  - symbolic links are followed, once: each folder and each file is visited at most once
 *    per walk, keyed by its real path, which breaks link loops and also skips a file named
 *    twice or reached through two links. A link to a missing target is UNREADABLE when its
 *    name has a supported extension (otherwise it is skipped like other unknown files).
 */

interface WalkState {
  seenDirs: Set<string>;
  seenFiles: Set<string>;
}

function unsupportedReason(path: string): string {
  const ext = extname(path);
  const what = ext ? `has an unsupported extension "${ext}"` : 'has no file extension';
  return `${what}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`;
}

async function* fileItem(path: string, st: Stats, format: SourceFormat, state: WalkState): AsyncGenerator<WalkItem> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    yield problemFromError(path, err);
    return;
  }
  if (state.seenFiles.has(real)) return;
  state.seenFiles.add(real);
  yield { kind: 'file', file: { path, bytes: st.size, format } };
}

/** stat, with a clearer reason for a symbolic link whose target is missing. */
async function statOrProblem(path: string): Promise<Stats | LoadItem> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        return problem(path, 'UNREADABLE', 'is a symbolic link to a target that does not exist; fix or remove the link');
      }
    }
    return problemFromError(path, err);
  }
}

async function* walkDir(dir: string, state: WalkState): AsyncGenerator<WalkItem> {
  let names: string[];
  try {
    const real = await realpath(dir);
    if (state.seenDirs.has(real)) return;
    state.seenDirs.add(real);
    names = (await readdir(dir)).sort();
  } catch (err) {
    yield problemFromError(dir, err);
    return;
  }
  for (const name of names) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const child = join(dir, name);
    const format = formatOf(name);
    let st: Stats;
    try {
      const link = await lstat(child);
      // a file we will not load needs no more system calls; a link might be a folder
      if (link.isFile() && format === undefined) continue;
      st = link.isSymbolicLink() ? await stat(child) : link;
    } catch (err) {
      // vanished since readdir, or a link to nothing: report it only if we would load it
      if (format !== undefined) {
        const again = await statOrProblem(child);
        if (!('isFile' in again)) yield again;
      } else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') yield problemFromError(child, err);
      continue;
    }
    if (st.isDirectory()) yield* walkDir(child, state);
    else if (st.isFile() && format !== undefined) yield* fileItem(child, st, format, state);
  }
}

async function* walkNamed(path: string, state: WalkState, allowFolders: boolean): AsyncGenerator<WalkItem> {
  const st = await statOrProblem(path);
  if (!('isFile' in st)) {
    yield st;
    return;
  }
  if (st.isDirectory()) {
    if (allowFolders) yield* walkDir(path, state);
    else yield problem(path, 'UNSUPPORTED', 'is a folder, not a file; use loadPaths to load a folder');
    return;
  }
  if (!st.isFile()) {
    yield problem(path, 'UNSUPPORTED', 'is not a regular file (a FIFO, socket or device); only files and folders can be loaded');
    return;
  }
  const format = formatOf(path);
  if (format === undefined) {
    yield problem(path, 'UNSUPPORTED', unsupportedReason(path));
    return;
  }
  yield* fileItem(path, st, format, state);
}

/**
 * The files that `paths` (files or folders) stand for, in load order, interleaved with
 * problems for paths that cannot be walked. Paths are taken in the order given.
 */
export async function* walkSources(paths: readonly string[], allowFolders = true): AsyncGenerator<WalkItem> {
  const state: WalkState = { seenDirs: new Set(), seenFiles: new Set() };
  for (const p of paths) yield* walkNamed(resolve(p), state, allowFolders);
}
