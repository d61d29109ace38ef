import type { FromSchema } from 'json-schema-to-ts';
import { Collection } from '../store/collection.js';
import type { GenerationRow } from '../store/metadata-db.js';
import { updateSearchIndexes } from '../store/collection-index.js';
import { dropOldGenerations, rollbackTo } from '../store/version-history.js';
import { compact as compactStore, type CompactionReport } from '../store/compaction.js';
import { audited } from '../observe/audit.js';
import { gcGenerations } from './generations.js';
import type { versionInfo } from '../server/schemas.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

/** One version of a collection; its one definition is the wire schema (src/server/schemas.ts). */
export type VersionInfo = FromSchema<typeof versionInfo>;

function toVersionInfo(g: GenerationRow, head: number): VersionInfo {
  return {
    version: g.id,
    current: g.id === head,
    createdAt: g.created_at,
    kind: g.kind,
    note: g.note,
    documents: g.documents,
    chunks: g.chunks,
    model: g.model,
    index: JSON.parse(g.index_settings) as Record<string, unknown>,
  };
}

/** Every kept version of a collection, oldest first. */
export async function versions(opts: CollectionOptions = {}): Promise<VersionInfo[]> {
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'read');
  try {
    const head = c.db.head();
    return c.db.generations().map((g) => toVersionInfo(g, head));
  } finally {
    await c.close();
  }
}

/** Makes an earlier version current again, as a new version. */
export async function rollback(version: number, opts: CollectionOptions = {}): Promise<VersionInfo> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  return audited(dataDir, { actor: opts.actor, action: 'rollback', target: name, detail: (v: VersionInfo) => ({ kind: 'version', to: version, version: v.version }) }, async () => {
    const c = await Collection.open(dataDir, name, 'write');
    try {
      const g = rollbackTo(c, version);
      await updateSearchIndexes(c);
      return toVersionInfo(g, g.id);
    } finally {
      await c.close();
    }
  });
}

export const DEFAULT_RETENTION = 10;

export interface GcReport extends CompactionReport {
  collection: string;
  versionsRemoved: number;
  documentVersionsRemoved: number;
  chunksRemoved: number;
  /** Retired model generations removed beyond the deployment's retention (see reindex/promote). */
  generationsRemoved: number[];
  /** Everything reclaimed: compaction and removed generations. */
  bytesReclaimed: number;
}

/**
 * Drops versions beyond the newest `keep` (default 10) and retired generations beyond the
 * deployment's retention (`keepGenerations`), and reclaims their disk space.
 */
export async function gc(opts: CollectionOptions & { keep?: number; keepGenerations?: number } = {}): Promise<GcReport> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  return audited(dataDir, { actor: opts.actor, action: 'gc', target: name, detail: (r: GcReport) => ({ versionsRemoved: r.versionsRemoved, generationsRemoved: r.generationsRemoved, bytesReclaimed: r.bytesReclaimed }) }, async () => {
    const generations = await gcGenerations({ ...opts, keep: opts.keepGenerations });
    const versions = await gcVersions(opts);
    return { ...versions, generationsRemoved: generations.generationsRemoved, bytesReclaimed: versions.bytesReclaimed + generations.bytesReclaimed };
  });
}

async function gcVersions(opts: CollectionOptions & { keep?: number }): Promise<Omit<GcReport, 'generationsRemoved'>> {
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'write');
  try {
    const dropped = dropOldGenerations(c, opts.keep ?? DEFAULT_RETENTION);
    const r = await compactStore(c);
    // A rebuild drops the index's tombstones too.
    await updateSearchIndexes(c, { rebuild: true });
    return {
      collection: c.name,
      versionsRemoved: dropped.generations,
      documentVersionsRemoved: dropped.versions,
      chunksRemoved: dropped.chunks,
      ...r,
      bytesReclaimed: r.bytesBefore - r.bytesAfter,
    };
  } finally {
    await c.close();
  }
}

/** Rewrites vector segments without unreferenced rows and vacuums the database. */
export async function compact(opts: CollectionOptions = {}): Promise<CompactionReport & { collection: string; bytesReclaimed: number }> {
  const c = await Collection.open(dataDirOf(opts), collectionOf(opts), 'write');
  try {
    const r = await compactStore(c);
    await updateSearchIndexes(c, { rebuild: true });
    return { collection: c.name, ...r, bytesReclaimed: r.bytesBefore - r.bytesAfter };
  } finally {
    await c.close();
  }
}
