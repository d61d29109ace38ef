/**
 * Verification cache: hashing ~90-130 MB of weights costs ~0.3 s, too much for every CLI call.
 * Each model folder keeps `.quarry-verified.json`: relative path -> the file's stat key
 * (size, mtime ns, ctime ns, inode) and the sha256 computed for it. A file whose stat key is
 * unchanged is not hashed again; any difference (rewritten, replaced by rename, copied, touched,
 * chmod-ed) means a fresh hash. ctime is in the key because a process cannot set it back, unlike
 * mtime (`touch -d`). The cache only records what the bytes hash to; whether that hash is
 * acceptable is decided against the manifest on every call, so editing the manifest takes effect
 * at once. Deleting the cache file is always safe. A folder we cannot write just goes uncached.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from './hash-file.js';

export const VERIFY_CACHE_FILE = '.quarry-verified.json';

interface Entry {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
}

interface CacheFile {
  version: 1;
  files: Record<string, Entry>;
}

function keyOf(s: BigIntStats): Omit<Entry, 'sha256'> {
  return { size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs), ino: String(s.ino) };
}

function sameKey(a: Omit<Entry, 'sha256'>, b: Omit<Entry, 'sha256'>): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

export interface HashedFile {
  sha256: string;
  size: number;
  /** True when the hash came from the cache (tests use it). */
  cached: boolean;
}

export class VerifyCache {
  private dirty = false;

  private constructor(
    private readonly dir: string,
    private readonly data: CacheFile,
  ) {}

  static async open(dir: string): Promise<VerifyCache> {
    let data: CacheFile = { version: 1, files: {} };
    try {
      const parsed = JSON.parse(await readFile(join(dir, VERIFY_CACHE_FILE), 'utf8')) as CacheFile;
      if (parsed?.version === 1 && parsed.files && typeof parsed.files === 'object') data = parsed;
    } catch {
      // missing or unreadable: start empty, it is only a cache
    }
    return new VerifyCache(dir, data);
  }

  /** sha256 of `rel` inside the folder, from the cache when the stat key still matches; null when absent. */
  async hash(rel: string): Promise<HashedFile | null> {
    const path = join(this.dir, rel);
    let before: BigIntStats;
    try {
      before = await stat(path, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
    const key = keyOf(before);
    const hit = this.data.files[rel];
    if (hit && sameKey(hit, key)) return { sha256: hit.sha256, size: Number(before.size), cached: true };
    if (!before.isFile()) return { sha256: 'not-a-regular-file', size: Number(before.size), cached: false };
    const sha256 = await sha256File(path);
    // Only cache when the file did not change while we read it.
    const after = keyOf(await stat(path, { bigint: true }));
    if (sameKey(key, after)) this.set(rel, { ...key, sha256 });
    return { sha256, size: Number(before.size), cached: false };
  }

  /** Record a hash computed elsewhere (a download that streamed through the hasher). */
  async record(rel: string, sha256: string): Promise<void> {
    this.set(rel, { ...keyOf(await stat(join(this.dir, rel), { bigint: true })), sha256 });
  }

  private set(rel: string, entry: Entry): void {
    this.data.files[rel] = entry;
    this.dirty = true;
  }

  /** Atomic write (temp + rename), best effort: a read-only folder simply stays uncached. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const target = join(this.dir, VERIFY_CACHE_FILE);
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(this.data, null, 1));
      await rename(tmp, target);
      this.dirty = false;
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }
}
