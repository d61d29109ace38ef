import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CollectionLockedError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

/**
 * One writer per collection: a lock file created with O_EXCL. A lock left by a process that
 * no longer exists on this host is stale and taken over, so a crash never locks a collection
 * forever. Readers never take it.
 */
export class WriterLock {
  private constructor(private readonly path: string) {}

  static async acquire(path: string, collection: string): Promise<WriterLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx');
        const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
        await fh.writeFile(JSON.stringify(info));
        await fh.sync();
        await fh.close();
        return new WriterLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = await readLock(path);
        if (holder && isAlive(holder)) {
          throw new CollectionLockedError(collection, path, `pid ${holder.pid} on ${holder.host} since ${holder.since}`);
        }
        // Stale (its process is gone) or unreadable (crashed while writing it): take it over.
        await unlink(path).catch(() => undefined);
      }
    }
    throw new CollectionLockedError(collection, path, 'another process that keeps re-creating the lock');
  }

  /** Whether a live process holds the lock at `path` (a stale lock of a dead one does not count). */
  static async isHeld(path: string): Promise<boolean> {
    const holder = await readLock(path);
    return holder !== null && isAlive(holder);
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

function isAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // cannot tell for another host: assume it is alive
  if (info.pid === process.pid) return true;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
