import { randomBytes } from 'node:crypto';
import { link, open, readFile, unlink, writeFile } from 'node:fs/promises';
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

  /**
   * `durable: false` skips the fsync: for a lock held only for moments (creating a folder),
   * whose loss in a crash is harmless.
   */
  static async acquire(path: string, collection: string, opts: { durable?: boolean } = {}): Promise<WriterLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      // The lock is written whole under a private name, then linked into place (link fails if
      // the lock exists): another process never sees an empty lock that it would take for stale.
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        const fh = await open(tmp, 'wx');
        try {
          const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
          await fh.writeFile(JSON.stringify(info));
          if (opts.durable !== false) await fh.sync();
        } finally {
          await fh.close();
        }
        await link(tmp, path).catch(async (e: NodeJS.ErrnoException) => {
          // a file system without hard links: create the lock in place (open with O_EXCL)
          if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(e.code ?? '')) throw e;
          await writeFile(path, await readFile(tmp), { flag: 'wx' });
        });
        return new WriterLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = await readLock(path);
        if (holder && isAlive(holder)) {
          throw new CollectionLockedError(collection, path, `pid ${holder.pid} on ${holder.host} since ${holder.since}`);
        }
        // Stale (its process is gone) or unreadable (damaged): take it over.
        await unlink(path).catch(() => undefined);
      } finally {
        await unlink(tmp).catch(() => undefined);
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
