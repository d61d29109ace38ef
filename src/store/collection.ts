import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CollectionCorruptError, CollectionExistsError, CollectionNotFoundError, DiskFullError, InvalidInputError, isDiskFull } from '../errors.js';
import { fsyncDir } from './atomic-file.js';
import { generationDirName, liveDirName, readDeploymentFile, deploymentFile } from './deployment.js';
import { modelLineage } from './lineage.js';
import { readManifest, writeManifest, type CollectionManifest } from './manifest.js';
import { MetadataDb, SOURCE_OF_TRUTH_REMEDY, type DocTextRow, type DocumentRow, type GenerationRow, type NewChunkRow, type VectorRef } from './metadata-db.js';
import { isUnitRow, readSegment, verifySegment, writeSegment, type SegmentRecord, type VerifiedSegments } from './vector-segments.js';
import { WriterLock } from './writer-lock.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * The namespace of quarry's own files in a data folder: keys.json, audit.log (and a rotated
 * audit.log.1), eval-baselines.json, lock files, a collection being created (`<name>.creating-<pid>`).
 * A collection's folder sits beside them, so no collection name may carry one of these
 * extensions: a name can never collide with a file quarry keeps there, now or later. Files
 * that start with '.' or hold '@' (temporaries, deployment files, generations) are out of
 * reach of the grammar already. Case-insensitive, for case-insensitive file systems.
 */
const RESERVED_NAME = /\.(?:json|jsonl|log|lock|tmp|sqlite)(?![a-z])|\.creating-/i;

export function validateCollectionName(name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.includes('..')) {
    throw new InvalidInputError(
      `invalid collection name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { field: 'collection' },
    );
  }
  if (RESERVED_NAME.test(name)) {
    throw new InvalidInputError(
      `invalid collection name ${JSON.stringify(name)}: names with .json, .jsonl, .log, .lock, .tmp, .sqlite or .creating- are reserved for quarry's own files in the data folder; choose another name`,
      { field: 'collection' },
    );
  }
  return name;
}

/** Why `path` cannot become a collection's folder: null when it is absent or an empty folder. */
async function foreignEntry(path: string): Promise<string | null> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return 'it is a file';
  return (await readdir(path)).length > 0 ? 'a folder that holds other files' : null;
}

export interface CollectionPaths {
  dir: string;
  manifest: string;
  db: string;
  vectors: string;
  indexes: string;
  lock: string;
}

/**
 * Where a collection's files are: its live generation's folder, or, given `generation`, that
 * generation's folder (see deployment.ts).
 */
export function collectionPaths(dataDir: string, name: string, generation?: number): CollectionPaths {
  validateCollectionName(name);
  const dir = join(resolve(dataDir), generation === undefined ? liveDirName(dataDir, name) : generationDirName(name, generation));
  return {
    dir,
    manifest: join(dir, 'manifest.json'),
    db: join(dir, 'meta.sqlite'),
    vectors: join(dir, 'vectors'),
    indexes: join(dir, 'indexes'),
    lock: join(dir, 'write.lock'),
  };
}

export function collectionExists(dataDir: string, name: string, generation?: number): boolean {
  return existsSync(collectionPaths(dataDir, name, generation).manifest);
}

/** A full disk (ENOSPC, EDQUOT, SQLITE_FULL) as DiskFullError naming the file being written; anything else as is. */
function rethrowDiskFull(e: unknown, path: string): never {
  if (isDiskFull(e) && !(e instanceof DiskFullError)) throw new DiskFullError(path, undefined, { cause: e });
  throw e;
}

/** One batch of a write, committed all-or-nothing. */
export interface WriteBatch {
  /** New chunk rows without their vector location; `vectors[i]` belongs to `chunks[i]`... */
  chunks: Array<Omit<NewChunkRow, 'segment' | 'row'>>;
  /** ...or null where the embedding cache already holds the vector at `reuse[i]`. */
  vectors: Array<Float32Array | null>;
  reuse?: Array<{ segment: number; row: number } | null>;
  /** Documents whose every chunk is now written: they become live with this commit. */
  publish: DocumentRow[];
  /** Sections of the documents' normalized text (kept so a reindex can re-chunk them). */
  texts?: DocTextRow[];
}

/** All live vectors as one row-major matrix, the chunk id of each row, and the generation. */
export interface LiveVectors {
  generation: number;
  matrix: Float32Array;
  ids: Float64Array;
}

/**
 * A collection on disk: manifest.json (identity and settings), meta.sqlite (text, metadata,
 * lineage, generations), vectors/seg-*.f32 (binary vectors), indexes/ (ANN index files).
 * Writers hold write.lock; readers never lock and read one consistent snapshot.
 */
export class Collection {
  private lock: WriterLock | null = null;
  /** A read-only handle pinned to one sealed version (see pinHead). */
  private pinned: number | undefined;
  /** Segment files this handle verified (vector-segments.ts): each is hashed once per handle. */
  private readonly verified: VerifiedSegments = new Map();

  private constructor(
    readonly name: string,
    readonly paths: CollectionPaths,
    public manifest: CollectionManifest,
    readonly db: MetadataDb,
    readonly writable: boolean,
  ) {}

  /** Creates a collection (generation 1), or, given `generation`, a new generation's folder. */
  static async create(dataDir: string, name: string, manifest: CollectionManifest, generation?: number): Promise<Collection> {
    if (generation === undefined && readDeploymentFile(dataDir, name) && !collectionExists(dataDir, name)) {
      // a delete interrupted after its live folder was gone: finish it before starting afresh
      await unlink(deploymentFile(dataDir, name)).catch(() => undefined);
    }
    const paths = collectionPaths(dataDir, name, generation);
    if (existsSync(paths.manifest)) throw new CollectionExistsError(name, resolve(dataDir));
    await mkdir(resolve(dataDir), { recursive: true });
    // Two processes creating the same collection at once: the second is told that another
    // process is writing it (the lock names it), never that the folder is not a collection.
    const creating = await WriterLock.acquire(`${paths.dir}@create.lock`, name, { durable: false }).catch((e: unknown) => {
      if (isDiskFull(e)) throw new DiskFullError(resolve(dataDir), `collection "${name}" was not created`, { cause: e });
      throw e;
    });
    try {
      if (existsSync(paths.manifest)) throw new CollectionExistsError(name, resolve(dataDir));
      // Something else by that name (a file, a folder quarry did not make): never delete it,
      // and refuse before anything is written.
      const foreign = await foreignEntry(paths.dir);
      if (foreign) {
        throw new InvalidInputError(`${paths.dir} exists and is not a quarry collection (${foreign}); move it away or choose another collection name or --data folder`, {
          collection: name,
        });
      }
      await Collection.build(paths, manifest, name);
      return await Collection.open(dataDir, name, 'write', generation);
    } finally {
      await creating.release();
    }
  }

  /**
   * Builds the folder under a temporary name and renames it, so a half-created collection is
   * never seen; whatever fails on the way, the temporary folder goes (none may be left behind).
   */
  private static async build(paths: CollectionPaths, manifest: CollectionManifest, name: string): Promise<void> {
    const dataDir = dirname(paths.dir);
    const staging = `${paths.dir}.creating-${process.pid}`;
    try {
      await rm(staging, { recursive: true, force: true });
      await mkdir(join(staging, 'vectors'), { recursive: true });
      await mkdir(join(staging, 'indexes'), { recursive: true });
      await new MetadataDb(join(staging, 'meta.sqlite'), false).close();
      await writeManifest(join(staging, 'manifest.json'), manifest);
      if (existsSync(paths.dir)) await rm(paths.dir, { recursive: true, force: true }); // an empty folder (checked above)
      await rename(staging, paths.dir);
    } catch (e) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      if (isDiskFull(e)) throw new DiskFullError(dataDir, `collection "${name}" was not created`, { cause: e });
      throw e;
    }
    await fsyncDir(dataDir);
  }

  /** Opens the live generation, or, given `generation`, that one (a shadow being built or judged). */
  static async open(dataDir: string, name: string, mode: 'read' | 'write', generation?: number): Promise<Collection> {
    const paths = collectionPaths(dataDir, name, generation);
    if (!existsSync(paths.manifest)) throw new CollectionNotFoundError(name, resolve(dataDir));
    const manifest = await readManifest(paths.manifest, name);
    let lock: WriterLock | null = null;
    if (mode === 'write') lock = await WriterLock.acquire(paths.lock, name);
    try {
      let db: MetadataDb;
      try {
        db = new MetadataDb(paths.db, mode === 'read', name);
      } catch (e) {
        if (e instanceof CollectionCorruptError) throw e;
        throw new CollectionCorruptError(name, `cannot open meta.sqlite: ${(e as Error).message}`, { file: paths.db, remedy: SOURCE_OF_TRUTH_REMEDY });
      }
      const c = new Collection(name, paths, manifest, db, mode === 'write');
      c.lock = lock;
      if (mode === 'write') await c.recover();
      return c;
    } catch (e) {
      await lock?.release();
      throw e;
    }
  }

  /**
   * Finishes what an interrupted writer left: seals its generation (what it committed is
   * live and stays so), drops chunk rows no document owns, deletes unreferenced files.
   */
  private async recover(): Promise<void> {
    await mkdir(this.paths.indexes, { recursive: true });
    const pending = this.db.pendingGeneration();
    if (pending !== undefined) {
      this.db.transaction(() => {
        if (this.db.touchedGeneration(pending)) {
          this.db.sealGeneration({ ...this.generationBase(pending), kind: 'recovered', note: 'sealed on recovery after an interrupted write' });
        } else this.db.clearPending();
      });
    }
    this.db.transaction(() => this.db.removeOrphanChunks());
    const active = new Set(this.db.segments().map((s) => s.file));
    for (const f of await readdir(this.paths.vectors)) {
      if (!active.has(f)) await unlink(join(this.paths.vectors, f)).catch(() => undefined);
    }
  }

  generationBase(id: number): Omit<GenerationRow, 'documents' | 'chunks' | 'kind' | 'note'> {
    return {
      id,
      created_at: new Date().toISOString(),
      model: modelLineage(this.manifest.model),
      index_settings: JSON.stringify(this.manifest.index),
    };
  }

  /**
   * Pins this read-only handle to the current sealed version: the searcher, the BM25 index
   * and metadata filters built from it then see exactly that version's live set, never a
   * running writer's documents committed since (they are live at head before their version
   * is sealed). A long-lived reader (the server's warm session) pins, and reopens when the
   * head moves.
   */
  pinHead(): number {
    if (this.writable) throw new Error('only a read-only collection can be pinned to a version');
    this.pinned = this.db.head();
    return this.pinned;
  }

  /** Pins this read-only handle to an earlier sealed version that is still kept (see pinHead). */
  pinTo(version: number): number {
    if (this.writable) throw new Error('only a read-only collection can be pinned to a version');
    if (!this.db.getGeneration(version)) {
      const kept = this.db.generations().map((g) => g.id);
      throw new InvalidInputError(`version ${version} does not exist or was removed by gc; versions kept: ${kept.join(', ') || 'none'}`, { field: 'version' });
    }
    this.pinned = version;
    return version;
  }

  /** The sealed version this handle is pinned to; undefined: it reads the live set at head. */
  get pinnedGeneration(): number | undefined {
    return this.pinned;
  }

  private assertWritable(): void {
    if (!this.writable) throw new Error('collection opened read-only');
  }

  /** Starts a write operation; its rows are live as they commit, the generation is sealed by endWrite. */
  beginWrite(): number {
    this.assertWritable();
    return this.db.transaction(() => this.db.pendingGeneration() ?? this.db.beginGeneration());
  }

  /** Seals the write's generation; a write that changed nothing makes none (returns null). */
  endWrite(gen: number, kind: string, note: string): GenerationRow | null {
    this.assertWritable();
    return this.db.transaction(() => {
      if (!this.db.touchedGeneration(gen)) {
        this.db.clearPending();
        return null;
      }
      return this.db.sealGeneration({ ...this.generationBase(gen), kind, note });
    });
  }

  /** Writes the batch's new vectors to a segment, then commits rows and publications at once. */
  async writeBatch(batch: WriteBatch, gen: number): Promise<number[]> {
    this.assertWritable();
    const fresh = batch.vectors.filter((v): v is Float32Array => v !== null);
    let file: string | undefined;
    let sha256 = '';
    if (fresh.length > 0) {
      file = `seg-${String(this.db.nextSegmentId()).padStart(6, '0')}.f32`;
      const path = join(this.paths.vectors, file);
      sha256 = (await writeSegment(path, fresh, this.manifest.model.dims).catch((e: unknown) => rethrowDiskFull(e, path))).sha256;
    }
    return this.onDiskFull(this.paths.db, () => this.db.transaction(() => {
      let ids: number[] = [];
      if (batch.chunks.length > 0) {
        const seg = file ? this.db.insertSegment({ file, count: fresh.length, dims: this.manifest.model.dims, sha256 }) : 0;
        let next = 0;
        ids = this.db.insertChunks(
          batch.chunks.map((c, i) => {
            const reused = batch.vectors[i] === null ? batch.reuse?.[i] : null;
            if (reused) return { ...c, segment: reused.segment, row: reused.row };
            return { ...c, segment: seg, row: next++ };
          }),
        );
      }
      if (batch.texts?.length) this.db.insertDocTexts(batch.texts);
      for (const d of batch.publish) this.db.publishDocument(d, gen);
      return ids;
    }));
  }

  /** Runs a write; a full disk becomes DiskFullError naming `path` (SQLite rolled the transaction back). */
  private onDiskFull<T>(path: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      return rethrowDiskFull(e, path);
    }
  }

  /** Takes documents out of the live set in generation `gen`; returns the ids that were live. */
  unpublish(docIds: string[], gen: number): string[] {
    this.assertWritable();
    return this.db.transaction(() => docIds.filter((id) => this.db.closeLive(id, gen)));
  }

  /** Every live vector, read in one snapshot; retried once if a compaction retired a segment meanwhile. */
  async loadVectors(): Promise<LiveVectors> {
    try {
      return await this.readVectors();
    } catch (e) {
      if (!(e instanceof CollectionCorruptError) || !/missing/.test(e.message)) throw e;
      return this.readVectors();
    }
  }

  private async readVectors(): Promise<LiveVectors> {
    const dims = this.manifest.model.dims;
    const { generation, refs, segs } = this.db.snapshot(() => ({
      generation: this.pinned ?? this.db.head(),
      refs: this.db.liveVectorRefs(this.pinned),
      segs: new Map(this.db.segments().map((s) => [s.id, s])),
    }));
    const matrix = new Float32Array(refs.length * dims);
    const ids = new Float64Array(refs.length);
    await this.gatherVectors(refs, segs, (i, v) => matrix.set(v, i * dims));
    refs.forEach((r, i) => (ids[i] = r.id));
    return { generation, matrix, ids };
  }

  /**
   * Before a reader answers anything: SQLite's quick_check of meta.sqlite (structure, not
   * content: the chunk text a result shows is checked against its hash when read), and, with
   * `segments`, the sha256 of every segment the version's live vectors are in, streamed (a
   * reader that loads every vector anyway, the exact one, gets the same check from
   * loadVectors without reading the files twice). Throws CollectionCorruptError naming the
   * file; each segment is hashed once per handle (a reload after a write opens a new handle
   * and verifies again).
   */
  async verifyForReading(opts: { segments: boolean }): Promise<void> {
    this.db.quickCheck(this.name);
    if (!opts.segments) return;
    const { refs, segs } = this.db.snapshot(() => ({ refs: this.db.liveVectorRefs(this.pinned), segs: this.db.segments() }));
    const used = new Set(refs.map((r) => r.segment));
    for (const seg of segs) {
      if (!used.has(seg.id)) continue;
      try {
        await verifySegment(join(this.paths.vectors, seg.file), seg, this.name, this.verified);
      } catch (e) {
        // a compaction may retire a segment under a reader that is not pinned: only a segment still recorded is damage
        if (e instanceof CollectionCorruptError && /missing/.test(e.message) && !this.db.segments().some((s) => s.id === seg.id)) continue;
        throw e;
      }
    }
  }

  /**
   * Calls `sink(i, vector)` for each ref, reading each needed segment once; every segment is
   * verified against its sha256 (once per handle) and every row handed out must be a finite
   * unit vector, so a damaged or NaN row fails loudly instead of ranking wrongly or vanishing.
   */
  async gatherVectors(refs: VectorRef[], segs: Map<number, SegmentRecord>, sink: (i: number, v: Float32Array) => void): Promise<void> {
    const dims = this.manifest.model.dims;
    const bySeg = new Map<number, number[]>();
    refs.forEach((r, i) => {
      let list = bySeg.get(r.segment);
      if (!list) bySeg.set(r.segment, (list = []));
      list.push(i);
    });
    for (const [segId, idxs] of bySeg) {
      const seg = segs.get(segId);
      if (!seg) throw new CollectionCorruptError(this.name, `chunk rows point at vector segment ${segId}, which is not recorded (missing)`);
      const path = join(this.paths.vectors, seg.file);
      const data = await readSegment(path, seg, this.name, this.verified);
      for (const i of idxs) {
        const row = refs[i].row;
        if (row < 0 || row >= seg.count) {
          throw new CollectionCorruptError(this.name, `chunk ${refs[i].id} points at row ${row} of ${seg.file}, which has ${seg.count}`, { file: path });
        }
        if (!isUnitRow(data, row, dims)) {
          throw new CollectionCorruptError(this.name, `row ${row} of vector segment ${seg.file} (chunk ${refs[i].id}) is not a finite unit vector`, {
            file: path,
            remedy: `re-derive it with \`quarry repair --collection ${this.name}\``,
          });
        }
        sink(i, data.subarray(row * dims, (row + 1) * dims));
      }
    }
  }

  /**
   * A document version's normalized text as sections. Versions written before quarry kept
   * the text are pieced together from their chunks (overlaps merged; a gap between two
   * chunks, which only whitespace can be, becomes one space).
   */
  documentSections(docId: string, version: number): Array<{ offset: number; text: string }> {
    const kept = this.db.docTexts(docId, version);
    if (kept) return kept;
    let text = '';
    for (const c of this.db.docChunks(docId, version)) {
      if (c.start > text.length) text += ' '.repeat(c.start - text.length);
      if (c.end > text.length) text += c.text.slice(text.length - c.start);
    }
    return text ? [{ offset: 0, text }] : [];
  }

  async setManifest(m: CollectionManifest): Promise<void> {
    this.assertWritable();
    await writeManifest(this.paths.manifest, m);
    this.manifest = m;
  }

  async diskUsage(): Promise<{ total: number; vectors: number; metadata: number; indexes: number }> {
    const sizeOf = async (dir: string, filter: (f: string) => boolean = () => true) => {
      let n = 0;
      for (const f of existsSync(dir) ? await readdir(dir) : []) {
        if (!filter(f)) continue;
        // a concurrent writer's temp file can be renamed away between readdir and stat
        const st = await stat(join(dir, f)).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return null;
          throw e;
        });
        n += st?.size ?? 0;
      }
      return n;
    };
    const vectors = await sizeOf(this.paths.vectors);
    const indexes = await sizeOf(this.paths.indexes);
    const metadata = await sizeOf(this.paths.dir, (f) => f.startsWith('meta.sqlite'));
    const manifest = (await stat(this.paths.manifest)).size;
    return { total: vectors + metadata + indexes + manifest, vectors, metadata, indexes };
  }

  async close(): Promise<void> {
    if (this.writable) {
      try {
        this.db.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // a reader may hold the WAL; it will be checkpointed next time
      }
    }
    await this.db.close();
    await this.lock?.release();
    this.lock = null;
  }
}
