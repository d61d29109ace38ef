/**
 * The local store's writer: the collection folder's single writer (write.lock), each write
 * operation one version in SQLite, vectors appended as sealed segment files, the ANN and BM25
 * indexes brought in step when a version commits.
 */
import { createHash } from 'node:crypto';
import { dropOldGenerations, rollbackTo } from '../version-history.js';
import { Collection } from '../collection.js';
import { updateSearchIndexes } from '../collection-index.js';
import { compact as compactFolder } from '../compaction.js';
import type { CollectionManifest } from '../manifest.js';
import type { GenerationRow, VectorRef } from '../metadata-db.js';
import type { CollectionWriter, DocumentRecord, VersionRecord, WriteBatch, WriteTxn } from '../port.js';

export function versionRecordOf(g: GenerationRow): VersionRecord {
  return {
    id: g.id,
    createdAt: g.created_at,
    kind: g.kind,
    note: g.note,
    documents: g.documents,
    chunks: g.chunks,
    model: g.model,
    indexSettings: g.index_settings,
  };
}

function documentRowOf(d: DocumentRecord) {
  return {
    doc_id: d.docId,
    version: d.version,
    source: d.source,
    locator: d.locator,
    format: d.format,
    title: d.title,
    metadata: JSON.stringify(d.metadata),
    content_hash: d.contentHash,
    byte_length: d.byteLength,
    chunk_count: d.chunkCount,
    embedded_with: d.embeddedWith,
    chunking: d.chunking,
    ingested_at: d.ingestedAt,
  };
}

export class LocalWriter implements CollectionWriter {
  private constructor(readonly collection: Collection) {}

  static async open(dataDir: string, name: string): Promise<LocalWriter> {
    return new LocalWriter(await Collection.open(dataDir, name, 'write'));
  }

  static async create(dataDir: string, name: string, manifest: CollectionManifest): Promise<LocalWriter> {
    return new LocalWriter(await Collection.create(dataDir, name, manifest));
  }

  get name(): string {
    return this.collection.name;
  }

  get manifest(): CollectionManifest {
    return this.collection.manifest;
  }

  async head(): Promise<number> {
    return this.collection.db.head();
  }

  async cachedVectors(embedHashes: readonly string[]): Promise<Map<string, Float32Array>> {
    const c = this.collection;
    const refs: VectorRef[] = [];
    const hashes: string[] = [];
    for (const h of new Set(embedHashes)) {
      const at = c.db.cachedVector(h);
      if (at) {
        refs.push({ id: refs.length, ...at });
        hashes.push(h);
      }
    }
    const out = new Map<string, Float32Array>();
    const segs = new Map(c.db.segments().map((s) => [s.id, s]));
    await c.gatherVectors(refs, segs, (i, v) => out.set(hashes[i], Float32Array.from(v)));
    return out;
  }

  async documentState(docId: string): Promise<{ nextVersion: number; liveContentHash: string | null }> {
    const db = this.collection.db;
    return db.transaction(() => ({ nextVersion: db.nextDocVersion(docId), liveContentHash: db.getDocument(docId)?.content_hash ?? null }));
  }

  async begin(): Promise<WriteTxn> {
    const c = this.collection;
    const version = c.beginWrite();
    return {
      version,
      write: async (batch: WriteBatch) => {
        // a vector this model already stored for the same input is referenced, not written again
        const reuse = batch.chunks.map((ch) => c.db.cachedVector(ch.embedHash) ?? null);
        await c.writeBatch(
          {
            chunks: batch.chunks.map((ch) => ({
              doc_id: ch.docId,
              doc_version: ch.docVersion,
              seq: ch.seq,
              text: ch.text,
              start: ch.start,
              end: ch.end,
              token_count: ch.tokenCount,
              // what readers check the text against: computed here, never taken on trust
              text_hash: createHash('sha256').update(ch.text).digest('hex'),
              embed_hash: ch.embedHash,
            })),
            vectors: batch.chunks.map((ch, i) => (reuse[i] ? null : ch.vector)),
            reuse,
            publish: batch.publish.map(documentRowOf),
            texts: batch.texts?.map((t) => ({ doc_id: t.docId, doc_version: t.docVersion, seq: t.seq, offset: t.offset, text: t.text })),
          },
          version,
        );
      },
      remove: async (docIds: readonly string[]) => c.unpublish([...docIds], version),
      commit: async (kind: string, note: string) => {
        const g = c.endWrite(version, kind, note);
        if (g) await updateSearchIndexes(c);
        return g ? versionRecordOf(g) : null;
      },
    };
  }

  async rollback(version: number): Promise<VersionRecord> {
    const g = rollbackTo(this.collection, version);
    await updateSearchIndexes(this.collection);
    return versionRecordOf(g);
  }

  async versions(): Promise<VersionRecord[]> {
    return this.collection.db.generations().map(versionRecordOf);
  }

  /** Forgets versions beyond the newest `keep` (their rows are reclaimed by compact). */
  async dropVersionsBeyond(keep: number): Promise<number> {
    return dropOldGenerations(this.collection, keep).generations;
  }

  async compact(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    const r = await compactFolder(this.collection);
    await updateSearchIndexes(this.collection, { rebuild: true });
    return { bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter };
  }

  async close(): Promise<void> {
    await this.collection.close();
  }
}
