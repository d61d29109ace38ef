/**
 * Opening a collection for an ingest: create it with a model (identity, fingerprint, chunking,
 * index settings, all checked before anything is created), or open an existing one for writing
 * with its model checked against what is stored (api/ingest.ts writes into it).
 */
import { resolveChunkOptions, DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS } from '../chunk/chunker.js';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { computeFingerprint } from '../embed/probes.js';
import { assertSameModel, assertTrustedModel, checkRequestedModel } from '../embed/trust.js';
import { CollectionExistsError, InvalidInputError } from '../errors.js';
import { audited } from '../observe/audit.js';
import { Collection, collectionExists } from '../store/collection.js';
import { validateIndexSettings } from '../store/collection-index.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type ChunkingSettings } from '../store/manifest.js';
import { openStore } from '../store/open-store.js';
import type { CollectionSettings, IngestOptions } from './ingest-types.js';
import { loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, DEFAULT_MODEL, type CollectionOptions } from './options.js';

/**
 * Opens a collection for writing (its lock held) with a checked model, or creates it. An
 * existing collection's model must match what is stored, and must still reproduce its
 * fingerprint (drift is refused before anything is written).
 */
export async function openForIngest(opts: IngestOptions): Promise<{ collection: Collection; embedder: Embedder; ownEmbedder: boolean; created: boolean }> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  if (!collectionExists(dataDir, name)) {
    try {
      // a collection made by its first ingest is an administrative action like any other
      const made = await audited(
        dataDir,
        { actor: opts.actor, action: 'collection.create', target: name, detail: (r: { collection: Collection }) => ({ model: describeIdentity(r.collection.manifest.model), chunking: r.collection.manifest.chunking, index: r.collection.manifest.index, by: 'ingest' }) },
        () => createWithModel(opts),
      );
      return { ...made, created: true };
    } catch (e) {
      // Another process created it since we looked: write into it like any existing
      // collection (its writer lock says so if that process is still writing).
      if (!(e instanceof CollectionExistsError)) throw e;
    }
  }
  // the model is checked against the manifest before the collection is opened: a refused write touches nothing
  const stored = (await openStore(dataDir).manifest(name)).model;
  let embedder: Embedder | undefined;
  let collection: Collection | undefined;
  const ownEmbedder = !opts.embedder;
  try {
    const ref = opts.model ?? refOf(stored);
    if (opts.model !== undefined) checkRequestedModel(name, stored, ref);
    embedder = opts.embedder ?? (await loadEmbedder(ref, opts.modelsDir, { offThread: true }));
    assertSameModel(name, stored, embedder.identity);
    collection = await Collection.open(dataDir, name, 'write');
    // a promotion between the check and the lock changes the live manifest: check it again
    assertSameModel(name, collection.manifest.model, embedder.identity);
    assertSameChunking(name, collection.manifest.chunking, opts);
    if (opts.index) validateIndexSettings(opts.index, stored.dims);
    await assertTrustedModel(name, collection.manifest, embedder);
    return { collection, embedder, ownEmbedder, created: false };
  } catch (e) {
    if (ownEmbedder) await embedder?.close();
    await collection?.close();
    throw e;
  }
}

/**
 * Creates an empty collection: the model's identity and fingerprint, chunking and index
 * settings, all checked before anything is created. Returns it open for writing.
 */
export async function createWithModel(
  opts: CollectionOptions & CollectionSettings & { generation?: number },
): Promise<{ collection: Collection; embedder: Embedder; ownEmbedder: boolean }> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  const embedder = opts.embedder ?? (await loadEmbedder(opts.model ?? DEFAULT_MODEL, opts.modelsDir, { offThread: true }));
  const ownEmbedder = !opts.embedder;
  const chunking: ChunkingSettings = {
    chunkTokens: opts.chunkTokens ?? DEFAULT_CHUNK_TOKENS,
    overlapTokens: opts.overlapTokens ?? DEFAULT_OVERLAP_TOKENS,
  };
  try {
    resolveChunkOptions(chunking, embedder.tokenizer); // reject bad settings before creating anything
    if (opts.index) validateIndexSettings(opts.index, embedder.identity.dims);
    const collection = await Collection.create(dataDir, name, {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      name,
      createdAt: new Date().toISOString(),
      model: embedder.identity,
      fingerprint: await computeFingerprint(embedder),
      chunking,
      index: opts.index ?? { type: 'flat' },
    }, opts.generation);
    return { collection, embedder, ownEmbedder };
  } catch (e) {
    if (ownEmbedder) await embedder.close();
    throw e;
  }
}

function assertSameChunking(name: string, stored: ChunkingSettings, opts: IngestOptions): void {
  const diffs: string[] = [];
  if (opts.chunkTokens !== undefined && opts.chunkTokens !== stored.chunkTokens) diffs.push(`chunk tokens ${stored.chunkTokens} -> ${opts.chunkTokens}`);
  if (opts.overlapTokens !== undefined && opts.overlapTokens !== stored.overlapTokens) diffs.push(`overlap ${stored.overlapTokens} -> ${opts.overlapTokens}`);
  if (diffs.length > 0) {
    throw new InvalidInputError(
      `collection "${name}" is chunked with ${stored.chunkTokens} tokens and ${stored.overlapTokens} overlap; ` +
        `it cannot be changed in place (${diffs.join(', ')}): index into a new collection instead`,
      { collection: name },
    );
  }
}
