import type { LoadItem, LoadProblem } from './types.js';

export function problem(
  path: string,
  code: LoadProblem['code'],
  reason: string,
  locator?: string,
): LoadItem {
  const p: LoadProblem = locator === undefined ? { path, code, reason } : { path, locator, code, reason };
  return { kind: 'problem', problem: p };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Why a file-system call failed, in words a user can act on. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist (or vanished while it was being read); check the path';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; make it readable by this user or leave it out';
    case 'ELOOP':
      return 'is a loop of symbolic links; fix or remove the link';
    case 'ENOTDIR':
      return 'a part of the path is not a folder; check the path';
    case 'EISDIR':
      return 'is a folder where a file was expected';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files; raise the open-file limit (ulimit -n) and retry';
    case 'EIO':
      return 'input/output error while reading; the disk or network share may be failing';
    default:
      return `could not be read (${err instanceof Error ? err.message : String(err)})`;
  }
}

export function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** A problem item for an error met while loading `path`: UNREADABLE for file-system errors. */
export function problemFromError(path: string, err: unknown, locator?: string): LoadItem {
  if (isFsError(err)) return problem(path, 'UNREADABLE', describeFsError(err), locator);
  const msg = err instanceof Error ? err.message : String(err);
  return problem(path, 'PARSE_ERROR', `could not be loaded: ${msg}`, locator);
}
