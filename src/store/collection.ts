import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CollectionNotFoundError, InvalidInputError } from '../errors.js';
import { fsyncDir } from './atomic-file.js';
import { readManifest, writeManifest, type CollectionManifest } from './manifest.js';
import { MetadataDb, type DocumentRow, type NewChunkRow } from './metadata-db.js';
import { readSegment, writeSegment } from './vector-segments.js';
import { WriterLock } from './writer-lock.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateCollectionName(name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.includes('..')) {
    throw new InvalidInputError(
      `invalid collection name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { field: 'collection' },
    );
  }
  return name;
}

export interface CollectionPaths {
  dir: string;
  manifest: string;
  db: string;
  vectors: string;
  lock: string;
}

export function collectionPaths(dataDir: string, name: string): CollectionPaths {
  const dir = join(resolve(dataDir), validateCollectionName(name));
  return {
    dir,
    manifest: join(dir, 'manifest.json'),
    db: join(dir, 'meta.sqlite'),
    vectors: join(dir, 'vectors'),
    lock: join(dir, 'write.lock'),
  };
}

export function collectionExists(dataDir: string, name: string): boolean {
  return existsSync(collectionPaths(dataDir, name).manifest);
}

/** One batch of an ingest, committed all-or-nothing. */
export interface WriteBatch {
  /** Chunk rows without their vector location; `vectors[i]` belongs to `chunks[i]`. */
  chunks: Array<Omit<NewChunkRow, 'segment' | 'row'>>;
  vectors: Float32Array[];
  /** Documents whose every chunk is now written: they become visible with this commit. */
  publish: DocumentRow[];
}

/**
 * A collection on disk: manifest.json (identity and settings), meta.sqlite (text, metadata,
 * lineage), vectors/seg-*.f32 (binary vectors). Writers hold write.lock; readers never lock.
 */
export class Collection {
  private lock: WriterLock | null = null;

  private constructor(
    readonly name: string,
    readonly paths: CollectionPaths,
    readonly manifest: CollectionManifest,
    readonly db: MetadataDb,
    readonly writable: boolean,
  ) {}

  static async create(dataDir: string, name: string, manifest: CollectionManifest): Promise<Collection> {
    const paths = collectionPaths(dataDir, name);
    if (existsSync(paths.manifest)) throw new InvalidInputError(`collection "${name}" already exists in ${resolve(dataDir)}`);
    await mkdir(resolve(dataDir), { recursive: true });
    // Build it under a temporary name and rename, so a half-created collection is never seen.
    const staging = `${paths.dir}.creating-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(join(staging, 'vectors'), { recursive: true });
    new MetadataDb(join(staging, 'meta.sqlite'), false).close();
    await writeManifest(join(staging, 'manifest.json'), manifest);
    if (existsSync(paths.dir)) {
      // A folder without a manifest: never delete what quarry did not make.
      const entries = await readdir(paths.dir);
      if (entries.length > 0) {
        await rm(staging, { recursive: true, force: true });
        throw new InvalidInputError(
          `${paths.dir} exists and is not a quarry collection; move it away or choose another collection name or --data folder`,
          { collection: name },
        );
      }
      await rm(paths.dir, { recursive: true, force: true });
    }
    await rename(staging, paths.dir);
    await fsyncDir(resolve(dataDir));
    return Collection.open(dataDir, name, 'write');
  }

  static async open(dataDir: string, name: string, mode: 'read' | 'write'): Promise<Collection> {
    const paths = collectionPaths(dataDir, name);
    if (!existsSync(paths.manifest)) throw new CollectionNotFoundError(name, resolve(dataDir));
    const manifest = await readManifest(paths.manifest, name);
    let lock: WriterLock | null = null;
    if (mode === 'write') lock = await WriterLock.acquire(paths.lock, name);
    try {
      const db = new MetadataDb(paths.db, mode === 'read');
      const c = new Collection(name, paths, manifest, db, mode === 'write');
      c.lock = lock;
      if (mode === 'write') await c.recover();
      return c;
    } catch (e) {
      await lock?.release();
      throw e;
    }
  }

  /** Clears what an interrupted writer left: invisible chunk rows and unreferenced segment files. */
  private async recover(): Promise<void> {
    this.db.removeOrphanChunks();
    const known = new Set(this.db.segments().map((s) => s.file));
    for (const f of await readdir(this.paths.vectors)) {
      if (!known.has(f)) await unlink(join(this.paths.vectors, f)).catch(() => undefined);
    }
  }

  /** Writes the batch's vectors to a new segment, then commits rows and publications at once. */
  async writeBatch(batch: WriteBatch): Promise<void> {
    if (!this.writable) throw new Error('collection opened read-only');
    let segmentId = 0;
    if (batch.chunks.length > 0) {
      segmentId = this.db.nextSegmentId();
      const file = `seg-${String(segmentId).padStart(6, '0')}.f32`;
      const { sha256 } = await writeSegment(join(this.paths.vectors, file), batch.vectors, this.manifest.model.dims);
      this.db.transaction(() => {
        const id = this.db.insertSegment({ file, count: batch.vectors.length, dims: this.manifest.model.dims, sha256 });
        this.db.insertChunks(batch.chunks.map((c, row) => ({ ...c, segment: id, row })));
        for (const d of batch.publish) this.db.publishDocument(d);
      });
      return;
    }
    this.db.transaction(() => {
      for (const d of batch.publish) this.db.publishDocument(d);
    });
  }

  /** All live vectors as one row-major matrix, and the chunk id of each row. */
  async loadVectors(verifyHashes = false): Promise<{ matrix: Float32Array; ids: Float64Array }> {
    const dims = this.manifest.model.dims;
    const refs = this.db.liveVectorRefs();
    const segs = new Map(this.db.segments().map((s) => [s.id, s]));
    const matrix = new Float32Array(refs.length * dims);
    const ids = new Float64Array(refs.length);
    const needed = [...new Set(refs.map((r) => r.segment))];
    const loaded = new Map<number, Float32Array>();
    for (const id of needed) {
      const seg = segs.get(id);
      if (!seg) throw new InvalidInputError(`chunk rows point at vector segment ${id}, which is not recorded`);
      loaded.set(id, await readSegment(join(this.paths.vectors, seg.file), seg, this.name, verifyHashes));
    }
    refs.forEach((r, i) => {
      const data = loaded.get(r.segment)!;
      matrix.set(data.subarray(r.row * dims, (r.row + 1) * dims), i * dims);
      ids[i] = r.id;
    });
    return { matrix, ids };
  }

  async diskUsage(): Promise<{ total: number; vectors: number; metadata: number }> {
    let vectors = 0;
    for (const f of await readdir(this.paths.vectors)) vectors += (await stat(join(this.paths.vectors, f))).size;
    let metadata = 0;
    for (const f of await readdir(this.paths.dir)) {
      if (f.startsWith('meta.sqlite')) metadata += (await stat(join(this.paths.dir, f))).size;
    }
    const manifest = (await stat(this.paths.manifest)).size;
    return { total: vectors + metadata + manifest, vectors, metadata };
  }

  async close(): Promise<void> {
    if (this.writable) {
      try {
        this.db.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // a reader may hold the WAL; it will be checkpointed next time
      }
    }
    this.db.close();
    await this.lock?.release();
    this.lock = null;
  }
}
