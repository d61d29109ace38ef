/** The local store's collection folders: which ones a data directory holds, and dropping one. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CollectionNotFoundError } from '../../errors.js';
import { fsyncDir } from '../atomic-file.js';
import { collectionExists, collectionPaths, validateCollectionName } from '../collection.js';
import { deploymentFile, deploymentLockFile, judgmentsFile, readDeploymentFile } from '../deployment.js';
import { WriterLock } from '../writer-lock.js';

const TOMBSTONE_PREFIX = '.deleted-';

/** The names of the collections in a data folder, sorted. */
export async function localCollectionNames(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const names: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory() || /\.creating-\d+$/.test(e.name)) continue;
    try {
      validateCollectionName(e.name);
    } catch {
      continue; // not a collection folder (a tombstone, something else)
    }
    if (existsSync(join(root, e.name, 'manifest.json'))) names.push(e.name);
  }
  // A collection whose first generation was removed after an upgrade is known by its deployment file.
  for (const f of await readdir(root)) {
    const m = /^(.+)@deploy\.json$/.exec(f);
    if (!m || names.includes(m[1])) continue;
    try {
      if (collectionExists(root, validateCollectionName(m[1]))) names.push(m[1]);
    } catch {
      continue;
    }
  }
  return names.sort();
}

/**
 * Deletes a whole collection folder (every generation). Refused (conflict) while a writer
 * holds its lock; the folder is first renamed out of sight in one step, so readers and
 * listings never see half a collection, then removed. A removal interrupted by a crash is
 * finished by the next delete.
 */
export async function dropLocalCollection(dataDir: string, name: string): Promise<void> {
    const paths = collectionPaths(dataDir, name);
    if (!existsSync(paths.manifest)) throw new CollectionNotFoundError(name, dataDir);
    const deployment = readDeploymentFile(dataDir, name);
    // Taking the writer locks is how "no one is writing" is checked (the deployment's too: no
    // reindex, promote or rollback is running); they leave with the folders.
    const locks: WriterLock[] = [];
    const moves: string[] = [];
    try {
      if (deployment) locks.push(await WriterLock.acquire(deploymentLockFile(dataDir, name), name));
      locks.push(await WriterLock.acquire(paths.lock, name));
      for (const g of deployment?.generations ?? []) {
        const dir = join(dataDir, g.dir);
        if (dir === paths.dir || !existsSync(dir)) continue;
        locks.push(await WriterLock.acquire(join(dir, 'write.lock'), name));
        moves.push(dir);
      }
    } catch (e) {
      for (const l of locks) await l.release();
      throw e;
    }
    const tombstone = join(dataDir, `${TOMBSTONE_PREFIX}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(tombstone);
      // The live folder first: from then on the collection does not exist for anyone.
      await rename(paths.dir, join(tombstone, 'live'));
    } catch (e) {
      for (const l of locks) await l.release();
      throw e;
    }
    for (const [i, dir] of moves.entries()) await rename(dir, join(tombstone, `generation-${i}`));
    for (const f of [judgmentsFile(dataDir, name), deploymentFile(dataDir, name)]) {
      if (existsSync(f)) await rename(f, join(tombstone, f.slice(dataDir.length + 1)));
    }
    await rm(deploymentLockFile(dataDir, name), { force: true });
    await fsyncDir(dataDir);
    for (const e of await readdir(dataDir)) {
      if (e.startsWith(TOMBSTONE_PREFIX)) await rm(join(dataDir, e), { recursive: true, force: true });
    }
}
