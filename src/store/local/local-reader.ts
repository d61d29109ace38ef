/**
 * The local store's reader: one collection folder pinned to one version, searched through
 * its saved ANN and BM25 indexes (caught up with later writes) and its SQLite rows.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CollectionCorruptError } from '../../errors.js';
import { dot } from '../../index/dot.js';
import type { SearchParams, VectorHit } from '../../index/vector-index.js';
import type { Bm25Index, Bm25Params } from '../../lexical/bm25-index.js';
import type { FilterNode } from '../../retrieve/filter/tree.js';
import { Collection } from '../collection.js';
import { CollectionSearcher } from '../collection-index.js';
import { openLexicalIndex } from '../collection-lexical.js';
import type { CollectionManifest } from '../manifest.js';
import { SOURCE_OF_TRUTH_REMEDY, type HydratedChunk } from '../metadata-db.js';
import type { ChunkRecord, CollectionReader, LexicalSearchOptions, PreparedFilter, Tier2Store, VectorSearchOptions } from '../port.js';
import { Tier2Cache } from '../tier2-cache.js';
import { WriterLock } from '../writer-lock.js';
import { compileFilterSql, type SqlFilter } from './filter-sql.js';

/** A filter compiled to SQL once; its matching ids are read once per query and shared by both retrievers. */
interface LocalFilter extends PreparedFilter {
  sql: SqlFilter;
  ids?: Promise<number[]>;
}

export function chunkRecordOf(r: HydratedChunk): ChunkRecord {
  return {
    id: r.id,
    docId: r.doc_id,
    docVersion: r.doc_version,
    seq: r.seq,
    text: r.text,
    start: r.start,
    end: r.end,
    source: r.source,
    locator: r.locator,
    title: r.title,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    contentHash: r.content_hash,
    embeddedWith: r.embedded_with,
    ingestedAt: r.ingested_at,
  };
}

export class LocalReader implements CollectionReader {
  private vector: Promise<CollectionSearcher> | null = null;
  private lexical: Promise<Bm25Index> | null = null;
  /** Opened at the first use; null where the collection folder cannot be written. */
  private tier2Cache: Tier2Cache | null | undefined;

  private closed = false;

  private constructor(
    /** The open folder; exposed for the local-only verbs (check, card) that read its files. */
    readonly collection: Collection,
    /** The version it reads: its pinned one, or (unpinned) the head when it opened. */
    readonly version: number,
    /** Whether close() closes the folder too (false: whoever handed it in closes it). */
    private readonly owned: boolean,
  ) {}

  /**
   * A reader over a collection opened read-only elsewhere (the server's views, evaluation),
   * reading what that handle reads (its pinned version, or the live set); close() then
   * releases only what the reader opened itself.
   */
  static wrap(c: Collection, onDamage?: (e: CollectionCorruptError) => void): LocalReader {
    const r = new LocalReader(c, c.pinnedGeneration ?? c.db.head(), false);
    r.onDamage = onDamage;
    return r;
  }

  /** Told of damage found while answering (a server takes the collection out of service). */
  private onDamage: ((e: CollectionCorruptError) => void) | undefined;

  private async watched<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (e instanceof CollectionCorruptError) this.onDamage?.(e);
      throw e;
    }
  }

  /** Opens the live generation (or `generation`) pinned to its newest version, or to `version`. */
  static async open(dataDir: string, name: string, opts: { version?: number; generation?: number } = {}): Promise<LocalReader> {
    const c = await Collection.open(dataDir, name, 'read', opts.generation);
    try {
      if (opts.version === undefined && c.db.pendingGeneration() !== undefined && !(await WriterLock.isHeld(c.paths.lock))) {
        // A writer died mid-run: what it committed is acknowledged and live, though its version
        // is sealed only by the next writer ("recovered"). Read the live set, not the last seal.
        return new LocalReader(c, c.db.head(), true);
      }
      const version = opts.version === undefined ? c.pinHead() : c.pinTo(opts.version);
      return new LocalReader(c, version, true);
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  get name(): string {
    return this.collection.name;
  }

  get manifest(): CollectionManifest {
    return this.collection.manifest;
  }

  private searcher(): Promise<CollectionSearcher> {
    this.vector ??= CollectionSearcher.open(this.collection);
    return this.vector;
  }

  private bm25(): Promise<Bm25Index> {
    this.lexical ??= openLexicalIndex(this.collection).then((x) => x.index);
    return this.lexical;
  }

  prepareFilter(tree: FilterNode): PreparedFilter {
    const f: LocalFilter = { tree, sql: compileFilterSql(tree) };
    return f;
  }

  filterChunks(filter: PreparedFilter): Promise<number[]> {
    const f = filter as LocalFilter;
    if (!f.sql) throw new Error('a filter prepared by another store was handed to the local store');
    f.ids ??= Promise.resolve(this.collection.db.liveChunkIdsWhere(f.sql.sql, f.sql.params, this.collection.pinnedGeneration));
    return f.ids;
  }

  searchVectors(query: Float32Array, k: number, opts: VectorSearchOptions = {}): Promise<VectorHit[]> {
    return this.watched(this.vectorSearch(query, k, opts));
  }

  private async vectorSearch(query: Float32Array, k: number, opts: VectorSearchOptions): Promise<VectorHit[]> {
    const searcher = await this.searcher();
    if (!opts.filter) return searcher.search(query, k, opts.params as SearchParams | undefined);
    return searcher.searchWithin(query, k, await this.filterChunks(opts.filter), opts.params);
  }

  similarities(query: Float32Array, ids: readonly number[]): Promise<Map<number, number>> {
    return this.watched(this.cosines(query, ids));
  }

  private async cosines(query: Float32Array, ids: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (ids.length === 0) return out;
    // the searcher's load verified every live segment's sha256: the rows read here are those bytes
    await this.searcher();
    const c = this.collection;
    const dims = c.manifest.model.dims;
    const refs = c.db.snapshot(() => c.db.vectorRefsOf([...ids]));
    const segs = new Map(c.db.segments().map((s) => [s.id, s]));
    // positioned reads of just these rows (a query's few hundred candidates at most, from the
    // page cache), not whole segment files; synchronous, as the IVF-PQ refine step reads them,
    // because a thread-pool round trip per row costs more than the read
    const bySeg = new Map<number, typeof refs>();
    for (const r of refs) bySeg.set(r.segment, [...(bySeg.get(r.segment) ?? []), r]);
    const buf = Buffer.alloc(dims * 4);
    const row = new Float32Array(dims);
    for (const [segId, list] of bySeg) {
      const seg = segs.get(segId);
      if (!seg) throw new CollectionCorruptError(c.name, `chunk rows point at vector segment ${segId}, which is not recorded (missing)`);
      const fd = openSync(join(c.paths.vectors, seg.file), 'r');
      try {
        for (const r of list) {
          if (readSync(fd, buf, 0, buf.length, r.row * buf.length) !== buf.length) {
            throw new CollectionCorruptError(c.name, `chunk ${r.id} points at row ${r.row} of ${seg.file}, past its end`);
          }
          for (let j = 0; j < dims; j++) row[j] = buf.readFloatLE(j * 4);
          const norm = Math.sqrt(dot(row, 0, row, 0, dims));
          if (!(Math.abs(norm - 1) < 1e-3)) throw new CollectionCorruptError(c.name, `chunk ${r.id}'s vector (row ${r.row} of ${seg.file}) is not a finite unit vector (norm ${norm})`, { file: join(c.paths.vectors, seg.file) });
          out.set(r.id, dot(query, 0, row, 0, dims));
        }
      } finally {
        closeSync(fd);
      }
    }
    return out;
  }

  searchLexical(terms: string[], k: number, opts: LexicalSearchOptions = {}): Promise<VectorHit[]> {
    return this.watched(this.lexicalSearch(terms, k, opts));
  }

  private async lexicalSearch(terms: string[], k: number, opts: LexicalSearchOptions): Promise<VectorHit[]> {
    const index = await this.bm25();
    const allowed = opts.filter ? new Set(await this.filterChunks(opts.filter)) : undefined;
    return index.search(terms, k, opts.bm25 as Bm25Params | undefined, allowed);
  }

  async chunksHolding(term: string): Promise<Set<number>> {
    return (await this.bm25()).docsWithTerm(term);
  }

  chunks(ids: readonly number[]): Promise<ChunkRecord[]> {
    return this.watched(this.hydrate(ids));
  }

  private async hydrate(ids: readonly number[]): Promise<ChunkRecord[]> {
    const rows = this.collection.db.chunksWithDocuments([...ids]);
    // The text a result shows is checked against the hash recorded when it was written: a
    // few kilobytes per query, so a flipped byte in meta.sqlite is refused, never shown.
    for (const r of rows) {
      if (createHash('sha256').update(r.text).digest('hex') !== r.text_hash) {
        throw new CollectionCorruptError(this.name, `meta.sqlite: the text of chunk ${r.id} (document ${r.doc_id}) does not match its recorded sha256`, {
          file: this.collection.paths.db,
          remedy: SOURCE_OF_TRUTH_REMEDY,
        });
      }
    }
    return rows.map(chunkRecordOf);
  }

  async warm(what: { vector: boolean; lexical: boolean }): Promise<void> {
    if (what.vector) await this.searcher();
    if (what.lexical) await this.bm25();
  }

  async counts(): Promise<{ documents: number; chunks: number }> {
    return this.collection.db.counts(this.collection.pinnedGeneration);
  }

  tier2(): Tier2Store | null {
    if (this.tier2Cache === undefined) this.tier2Cache = Tier2Cache.open(this.collection.paths.dir);
    return this.tier2Cache;
  }

  async close(): Promise<void> {
    await this.tier2Cache?.close();
    this.tier2Cache = undefined;
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.collection.close();
  }
}
