/**
 * Collections as things of their own: create one empty (model, chunking, index settings),
 * list them, delete one. Documents come later (indexPaths, upsertDocuments).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeIdentity } from '../embed/identity.js';
import { CollectionExistsError, CollectionNotFoundError } from '../errors.js';
import { audited } from '../observe/audit.js';
import { fsyncDir } from '../store/atomic-file.js';
import { Collection, collectionExists, collectionPaths, validateCollectionName } from '../store/collection.js';
import { updateSearchIndexes } from '../store/collection-index.js';
import { deploymentFile, deploymentLockFile, judgmentsFile, readDeploymentFile } from '../store/deployment.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import { WriterLock } from '../store/writer-lock.js';
import { dropLocalCollection, localCollectionNames } from '../store/local/folders.js';
import { createWithModel, type CollectionSettings } from './ingest.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface CollectionSummary {
  name: string;
  createdAt: string;
  /** The model it was built with, as `id:variant@sha256-prefix` plus pooling and dimensions. */
  model: string;
  chunking: ChunkingSettings;
  index: IndexSettings;
  documents: number;
  chunks: number;
  /** The current version (0 before the first write). */
  version: number;
}

/** A collection in the listing, or one that could not be read (with why). */
export type CollectionListing = CollectionSummary | { name: string; error: { code: string; message: string } };

/** Where deleted collections go for the moment between their rename and their removal. */

export async function summarize(c: Collection): Promise<CollectionSummary> {
  const counts = c.db.counts();
  const m = c.manifest;
  return {
    name: c.name,
    createdAt: m.createdAt,
    model: describeIdentity(m.model),
    chunking: m.chunking,
    index: m.index,
    documents: counts.documents,
    chunks: counts.chunks,
    version: c.db.head(),
  };
}

/**
 * Creates an empty collection: the model is loaded and verified, its identity and
 * fingerprint stored, the chunking and index settings checked first. Refused (conflict)
 * when the collection exists. Recorded in the audit log, refused and failed attempts too.
 */
export async function createCollection(opts: CollectionOptions & CollectionSettings): Promise<CollectionSummary> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  const detail = (s: CollectionSummary) => ({ model: s.model, chunking: s.chunking, index: s.index });
  return audited(dataDir, { actor: opts.actor, action: 'collection.create', target: name, detail }, async () => {
    validateCollectionName(name);
    if (collectionExists(dataDir, name)) throw new CollectionExistsError(name, resolve(dataDir));
    const { collection, embedder, ownEmbedder } = await createWithModel(opts);
    try {
      await updateSearchIndexes(collection);
      return await summarize(collection);
    } finally {
      if (ownEmbedder) await embedder.close();
      await collection.close();
    }
  });
}

/** The names of the collections in a data folder, sorted. */
export async function collectionNames(dataDir?: string): Promise<string[]> {
  return localCollectionNames(resolve(dataDir ?? dataDirOf({})));
}

/** Every collection with its model, settings and counts; one that cannot be read says why. */
export async function listCollections(opts: Omit<CollectionOptions, 'collection'> = {}): Promise<CollectionListing[]> {
  const dataDir = dataDirOf(opts);
  const out: CollectionListing[] = [];
  for (const name of await collectionNames(dataDir)) {
    try {
      const c = await Collection.open(dataDir, name, 'read');
      try {
        out.push(await summarize(c));
      } finally {
        await c.close();
      }
    } catch (e) {
      const err = e as Error & { code?: string };
      out.push({ name, error: { code: typeof err.code === 'string' ? err.code : 'INTERNAL', message: err.message } });
    }
  }
  return out;
}

/**
 * Deletes a whole collection folder. Refused (conflict) while a writer holds its lock; the
 * folder is first renamed out of sight in one step, so readers and listings never see half a
 * collection, then removed. A removal interrupted by a crash is finished by the next delete.
 * Recorded in the audit log.
 */
export async function deleteCollection(opts: CollectionOptions): Promise<{ collection: string; deleted: true }> {
  const dataDir = resolve(dataDirOf(opts));
  const name = collectionOf(opts);
  return audited(dataDir, { actor: opts.actor, action: 'collection.delete', target: name }, async () => {
    await dropLocalCollection(dataDir, name);
    return { collection: name, deleted: true as const };
  });
}
