/**
 * The one write pipeline behind `indexPaths` (files and folders) and `upsertDocuments`
 * (documents handed over in memory, as the HTTP API does): open or create the collection
 * under its writer lock, check the model and chunking against what is stored, then chunk by
 * the model's tokens, embed (reusing the embedding cache), commit in batches under one write
 * generation, and bring the vector and BM25 indexes in step. Each document becomes visible
 * in one step after its last chunk is committed, so an interrupted run never leaves half a
 * document behind.
 */
import { createHash } from 'node:crypto';
import { chunkSections, resolveChunkOptions, DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS } from '../chunk/chunker.js';
import { embedHash, titlePrefix } from '../embed/embed-input.js';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { computeFingerprint } from '../embed/probes.js';
import { assertSameModel, assertTrustedModel, checkRequestedModel } from '../embed/trust.js';
import { CollectionExistsError, DiskFullError, IndexInterruptedError, InvalidInputError, isDiskFull, type CommittedState } from '../errors.js';
import { audited } from '../observe/audit.js';
import { recordIngest } from '../observe/metrics.js';
import type { LoadedDocument, LoadItem, LoadProblem, TextSection } from '../ingest/types.js';
import { Collection, collectionExists } from '../store/collection.js';
import { readAnnState, updateSearchIndexes, validateIndexSettings, type AnnState } from '../store/collection-index.js';
import { readLexicalState } from '../store/collection-lexical.js';
import { chunkingLineage, modelLineage } from '../store/lineage.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type ChunkingSettings, type IndexSettings } from '../store/manifest.js';
import type { DocTextRow, DocumentRow, NewChunkRow } from '../store/metadata-db.js';
import { openStore } from '../store/open-store.js';
import type { FolderSync } from './folder-sync.js';
import { loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, DEFAULT_MODEL, type CollectionOptions } from './options.js';

/** What a new collection is made with (model, chunking, index). */
export interface CollectionSettings {
  /** Model reference; default: the collection's own model, or all-MiniLM-L6-v2 for a new one. */
  model?: string;
  chunkTokens?: number;
  overlapTokens?: number;
  /** Vector index type and parameters (default flat); changing them on an existing collection rebuilds the index. */
  index?: IndexSettings;
  /** A loaded embedder to reuse (its identity is still checked). */
  embedder?: Embedder;
}

export interface IngestOptions extends CollectionOptions, CollectionSettings {
  /** Chunks embedded and committed together (default 256). */
  batchChunks?: number;
  /** Notes from the index build (cold-start fallback, recall under the floor). */
  onNote?: (note: string) => void;
  onProgress?: (p: IndexProgress) => void;
  onProblem?: (p: LoadProblem) => void;
  /** Called after each commit with the documents it made live: they survive any crash from now on. */
  onCommit?: (docs: Array<{ docId: string; contentHash: string }>) => void;
  /**
   * Stops the run early (Ctrl-C in the CLI): between batches, what was committed is sealed as
   * a version (nothing partial is visible; no folder sync), and the run throws
   * IndexInterruptedError saying what was committed. The reason is the signal's `reason` when
   * it is a string (e.g. "SIGINT").
   */
  signal?: AbortSignal;
}

export interface IndexProgress {
  /**
   * Source bytes whose chunks are committed (or skipped as unchanged): it moves inside a large
   * file batch by batch, estimated from where each chunk ends in the file.
   */
  bytesDone: number;
  bytesTotal: number;
  documents: number;
  chunks: number;
}

export interface IndexReport {
  collection: string;
  created: boolean;
  model: string;
  documentsAdded: number;
  documentsUpdated: number;
  documentsUnchanged: number;
  /** Documents removed because their files are gone from a folder or file list indexed again (folder sync). */
  documentsRemoved: number;
  chunksWritten: number;
  /** Chunks whose vector came from the embedding cache (same model, same input text). */
  cacheHits: number;
  /** Chunks the model actually embedded in this run. */
  chunksEmbedded: number;
  /** The generation this run sealed (null when nothing changed). */
  generation: number | null;
  /** The vector index after the run, with its measured recall (null for flat). */
  ann: AnnState | null;
  notes: string[];
  problems: LoadProblem[];
  elapsedMs: number;
}

/** What one ingest run reads: its items, their total size (for progress) and the version's note. */
export interface IngestSource {
  items: () => AsyncIterable<LoadItem>;
  bytesTotal: () => Promise<number>;
  note: string;
  /** Mirror these roots: documents under them whose files are gone are removed in the run's version. */
  sync?: FolderSync;
}

interface PendingChunk {
  row: Omit<NewChunkRow, 'segment' | 'row'>;
  embedText: string;
  /** Source bytes this chunk stands for (for progress): the estimated file position of its end minus the previous chunk's. */
  bytes: number;
}

/** Runs one ingest: open or create the collection, write the source's documents, update the indexes. */
export async function runIngest(source: IngestSource, opts: IngestOptions, started = performance.now()): Promise<IndexReport> {
  const { collection, embedder, ownEmbedder, created } = await openForIngest(opts);
  try {
    let rebuild = false;
    if (!created && opts.index && JSON.stringify(opts.index) !== JSON.stringify(collection.manifest.index)) {
      await collection.setManifest({ ...collection.manifest, index: opts.index });
      rebuild = true;
    }
    const report = await ingestInto(collection, embedder, source, opts, { created, rebuild, started });
    recordIngest(collection.name, report);
    return report;
  } finally {
    if (ownEmbedder) await embedder.close();
    await collection.close();
  }
}

/**
 * Writes a source's documents into a collection already open for writing with a checked
 * embedder, then brings its vector and BM25 indexes in step. A reindex builds a shadow
 * generation through this too, with `externalCache` reading vectors other generations hold.
 */
export async function ingestInto(
  collection: Collection,
  embedder: Embedder,
  source: IngestSource,
  opts: IngestOptions & { externalCache?: ExternalVectorCache },
  how: { created?: boolean; rebuild?: boolean; started?: number } = {},
): Promise<IndexReport> {
  const started = how.started ?? performance.now();
  const report = await ingestItems(collection, embedder, source, opts, how.created ?? false, started);
  if (report.generation !== null || how.rebuild || !readAnnState(collection) || !readLexicalState(collection)) {
    const { notes } = await updateSearchIndexes(collection, { rebuild: how.rebuild }).catch((e: unknown) => {
      if (!isDiskFull(e)) throw e;
      // the version is sealed; readers catch up from the stored vectors until the index files are rewritten
      const path = (e as { path?: string }).path ?? collection.paths.indexes;
      throw new DiskFullError(
        path,
        report.generation === null
          ? 'no version was written; the search index files were not rebuilt'
          : `version ${report.generation} was committed, but its search index files were not brought up to date (searches read the new documents from the stored vectors until a later write or \`quarry compact\` rewrites them)`,
        { cause: e },
      );
    });
    report.notes.push(...notes);
    for (const n of notes) opts.onNote?.(n);
  }
  report.ann = readAnnState(collection);
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

/** Vectors of embedding inputs held elsewhere (another generation built with the same model). */
export interface ExternalVectorCache {
  get(embedHash: string): Promise<Float32Array | null>;
}

/**
 * Opens a collection for writing (its lock held) with a checked model, or creates it. An
 * existing collection's model must match what is stored, and must still reproduce its
 * fingerprint (drift is refused before anything is written).
 */
async function openForIngest(opts: IngestOptions): Promise<{ collection: Collection; embedder: Embedder; ownEmbedder: boolean; created: boolean }> {
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

/**
 * Writes the source's documents under one generation. Unchanged documents (same content
 * hash, model and chunking) are skipped. What was committed is sealed even if the run fails
 * or is stopped; a folder sync's removals join the same generation once every item was read.
 */
async function ingestItems(
  collection: Collection,
  embedder: Embedder,
  source: IngestSource,
  opts: IngestOptions & { externalCache?: ExternalVectorCache },
  created: boolean,
  started: number,
): Promise<IndexReport> {
  const identity = collection.manifest.model;
  const embeddedWith = modelLineage(identity);
  const chunking = collection.manifest.chunking;
  const chunkingKey = chunkingLineage(chunking);
  const batchChunks = Math.max(1, opts.batchChunks ?? 256);
  const tok = embedder.tokenizer;

  const report: IndexReport = {
    collection: collection.name,
    created,
    model: describeIdentity(identity),
    documentsAdded: 0,
    documentsUpdated: 0,
    documentsUnchanged: 0,
    documentsRemoved: 0,
    chunksWritten: 0,
    cacheHits: 0,
    chunksEmbedded: 0,
    generation: null,
    ann: null,
    notes: [],
    problems: [],
    elapsedMs: 0,
  };
  const progress: IndexProgress = { bytesDone: 0, bytesTotal: await source.bytesTotal(), documents: 0, chunks: 0 };
  const emit = () => opts.onProgress?.({ ...progress });
  emit();

  let pending: PendingChunk[] = [];
  let texts: DocTextRow[] = [];
  let publish: DocumentRow[] = [];
  /** Bytes of the documents in `publish` not yet counted by their chunks (counted when they commit). */
  let publishBytes = 0;
  /** Documents this run made live so far (committed). */
  let committedDocs = 0;
  const stopped = () => opts.signal?.aborted === true;

  const headBefore = collection.db.head();
  let gen: number;
  try {
    gen = collection.beginWrite();
  } catch (e) {
    if (!isDiskFull(e)) throw e;
    throw new DiskFullError(collection.paths.db, { collection: collection.name, version: headBefore > 0 ? headBefore : null, madeByThisRun: false, documents: 0 }, { cause: e });
  }
  /**
   * Embeds and commits one batch. Batches are pipelined: while one embeds (on the embedder's
   * worker thread when it has one), the loop below reads, chunks and tokenizes the next, so
   * ingest runs at the embedder's speed rather than at the sum of the stages. Commits stay in
   * order: a batch starts only when the one before it is committed (so its embedding-cache
   * lookups see it), and every exit waits for the one in flight (see settle).
   */
  const commit = async (batch: { pending: PendingChunk[]; texts: DocTextRow[]; publish: DocumentRow[]; publishBytes: number }) => {
    const { pending, texts, publish, publishBytes } = batch;
    // The embedding cache: an input this model already embedded (same text, same title
    // prefix) reuses the stored vector; duplicates within the batch are embedded once.
    const reuse = pending.map((p) => collection.db.cachedVector(p.row.embed_hash) ?? null);
    const firstOf = new Map<string, number>();
    const toEmbed: number[] = [];
    const fromElsewhere = new Map<number, Float32Array>();
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      if (reuse[i] || firstOf.has(p.row.embed_hash)) continue;
      const ext = opts.externalCache ? await opts.externalCache.get(p.row.embed_hash) : null;
      if (ext) fromElsewhere.set(i, ext);
      else toEmbed.push(i);
      firstOf.set(p.row.embed_hash, i);
    }
    // a stop is checked between the embedder's own sub-batches too, so Ctrl-C waits for one of those, not a whole batch
    const embedded =
      toEmbed.length > 0
        ? await embedder.embed(
            toEmbed.map((i) => pending[i].embedText),
            () => {
              if (stopped()) throw new StopRequested();
            },
          )
        : [];
    const byIndex = new Map<number, Float32Array>([...fromElsewhere, ...toEmbed.map((i, k) => [i, embedded[k]] as const)]);
    const vectors = pending.map((p, i) => (reuse[i] ? null : (byIndex.get(i) ?? byIndex.get(firstOf.get(p.row.embed_hash)!)!)));
    await collection.writeBatch({ chunks: pending.map((p) => p.row), vectors, reuse, publish, texts }, gen);
    committedDocs += publish.length;
    if (publish.length > 0) opts.onCommit?.(publish.map((d) => ({ docId: d.doc_id, contentHash: d.content_hash })));
    report.cacheHits += reuse.filter(Boolean).length + fromElsewhere.size;
    report.chunksEmbedded += toEmbed.length;
    report.chunksWritten += pending.length;
    progress.chunks += pending.length;
    // progress moves with the chunks embedded, not only per finished file (a large file would sit at 0%)
    progress.bytesDone += pending.reduce((s, p) => s + p.bytes, 0) + publishBytes;
    progress.documents += publish.length;
    emit();
  };
  /** The batch being embedded and committed, if any. */
  let inFlight: Promise<void> | null = null;
  /** Waits for the batch in flight; its failure (or stop) is thrown here. */
  const settle = async () => {
    const running = inFlight;
    inFlight = null;
    await running;
  };
  const flush = async () => {
    if (pending.length === 0 && publish.length === 0) return;
    const batch = { pending, texts, publish, publishBytes };
    pending = [];
    texts = [];
    publish = [];
    publishBytes = 0;
    await settle();
    const running = commit(batch);
    running.catch(() => undefined); // observed by settle(); not an unhandled rejection meanwhile
    inFlight = running;
  };

  let outcome: 'done' | 'stopped' | 'failed' = 'failed';
  let failure: unknown;
  try {
    for await (const item of source.items()) {
      if (stopped()) break;
      if (item.kind === 'problem') {
        report.problems.push(item.problem);
        source.sync?.noteProblem(item.problem.path);
        opts.onProblem?.(item.problem);
        continue;
      }
      const doc = item.doc;
      source.sync?.noteDocument(doc.docId, doc.source);
      const existing = collection.db.getDocument(doc.docId);
      if (existing && existing.content_hash === doc.contentHash && existing.embedded_with === embeddedWith && existing.chunking === chunkingKey) {
        report.documentsUnchanged++;
        progress.bytesDone += doc.byteLength;
        progress.documents++;
        emit();
        continue;
      }
      const version = collection.db.nextDocVersion(doc.docId);
      const prefix = titlePrefix(doc.title, doc.format);
      const reserveTokens = prefix ? Math.min(64, tok.countTokens(prefix)) : 0;
      let seq = 0;
      let sectionSeq = 0;
      let failed = false;
      const bytesAt = docPosition(doc);
      let counted = 0;
      const sections = asyncIteratorOf(doc.sections);
      for (;;) {
        let next: IteratorResult<TextSection>;
        try {
          next = await sections.next();
        } catch (e) {
          // The file failed part-way (vanished, unreadable): its chunks never become visible
          // (rows already committed under this version are orphans, removed on the next write).
          pending = pending.filter((p) => !(p.row.doc_id === doc.docId && p.row.doc_version === version));
          texts = texts.filter((t) => !(t.doc_id === doc.docId && t.doc_version === version));
          const problem: LoadProblem = { path: doc.source, locator: doc.locator, code: 'UNREADABLE', reason: (e as Error).message };
          report.problems.push(problem);
          source.sync?.noteProblem(problem.path);
          opts.onProblem?.(problem);
          failed = true;
          break;
        }
        if (next.done) break;
        const section = next.value;
        texts.push({ doc_id: doc.docId, doc_version: version, seq: sectionSeq++, offset: section.offset, text: section.text });
        for (const c of chunkSections([section], tok, { ...chunking, reserveTokens }, seq)) {
          seq = c.seq + 1;
          const at = Math.max(counted, bytesAt(section, c.end));
          pending.push({
            row: {
              doc_id: doc.docId,
              doc_version: version,
              seq: c.seq,
              text: c.text,
              start: c.start,
              end: c.end,
              token_count: c.tokenCount,
              text_hash: sha256(c.text),
              embed_hash: embedHash(embeddedWith, prefix + c.text),
            },
            embedText: prefix + c.text,
            bytes: at - counted,
          });
          counted = at;
          if (pending.length >= batchChunks) {
            await flush();
            if (stopped()) break;
          }
        }
        bytesAt.after(section);
        if (stopped()) break;
      }
      if (failed) continue;
      if (stopped()) break; // this document is not finished: it is not published
      publish.push({
        doc_id: doc.docId,
        version,
        source: doc.source,
        locator: doc.locator ?? null,
        format: doc.format,
        title: doc.title ?? null,
        metadata: JSON.stringify(doc.metadata ?? {}),
        content_hash: doc.contentHash,
        byte_length: doc.byteLength,
        chunk_count: seq,
        embedded_with: embeddedWith,
        chunking: chunkingKey,
        ingested_at: new Date().toISOString(),
      });
      publishBytes += Math.max(0, doc.byteLength - counted);
      if (existing) report.documentsUpdated++;
      else report.documentsAdded++;
      if (publish.length >= batchChunks) await flush();
    }
    if (!stopped()) {
      await flush();
      await settle();
      if (source.sync) {
        const stale = await source.sync.stale((root, prefix) => collection.db.liveFileDocumentsUnder(root, prefix));
        report.documentsRemoved = stale.length > 0 ? collection.unpublish(stale, gen).length : 0;
      }
    }
    await settle();
    outcome = stopped() ? 'stopped' : 'done';
  } catch (e) {
    if (e instanceof StopRequested) outcome = 'stopped';
    else failure = e;
  } finally {
    // a batch still in flight (the loop failed or stopped meanwhile) commits or fails before the seal
    await settle().catch((e: unknown) => {
      if (e instanceof StopRequested) outcome = outcome === 'failed' && failure === undefined ? 'stopped' : outcome;
      else failure ??= e;
    });
    // What was committed is live; seal it as this run's generation even if the run failed or
    // was stopped (chunks not yet committed are dropped: no document is ever half visible).
    try {
      report.generation = collection.endWrite(gen, 'index', source.note)?.id ?? null;
    } catch (e) {
      // sealing failed too (a full disk): the next write-open seals what was committed
      failure ??= e;
      outcome = 'failed';
    }
  }
  if (outcome === 'done') {
    report.elapsedMs = Math.round(performance.now() - started);
    return report;
  }
  const committed: CommittedState = {
    collection: collection.name,
    version: report.generation ?? (headBefore > 0 ? headBefore : null),
    madeByThisRun: report.generation !== null,
    documents: committedDocs,
  };
  if (outcome === 'stopped') {
    const reason = opts.signal?.reason;
    throw new IndexInterruptedError(typeof reason === 'string' ? reason : 'an abort', committed);
  }
  if (isDiskFull(failure)) {
    const path =
      failure instanceof DiskFullError
        ? failure.path
        : ((failure as { code?: string }).code === 'SQLITE_FULL' ? collection.paths.db : ((failure as { path?: string }).path ?? collection.paths.dir));
    throw new DiskFullError(path, committed, { cause: failure });
  }
  throw failure;
}

/** Thrown out of the embedder's progress callback to abandon a batch when the run is stopped. */
class StopRequested extends Error {}

/**
 * Estimates where in a document's source bytes a chunk ends (for progress): from the bytes
 * read when a streamed section was cut, or in proportion to the text where all the sections
 * are known up front, or one byte per character as a last resort. Clamped to the document.
 */
function docPosition(doc: LoadedDocument): ((s: TextSection, charEnd: number) => number) & { after: (s: TextSection) => void } {
  const total = Array.isArray(doc.sections) ? (doc.sections as TextSection[]).reduce((n, s) => n + s.text.length, 0) : 0;
  let before = 0; // source bytes read before the current section
  const at = (s: TextSection, charEnd: number): number => {
    let bytes: number;
    if (s.sourceEnd !== undefined) {
      const within = s.text.length > 0 ? (charEnd - s.offset) / s.text.length : 1;
      bytes = before + (s.sourceEnd - before) * Math.min(1, Math.max(0, within));
    } else if (total > 0) bytes = (doc.byteLength * charEnd) / total;
    else bytes = charEnd;
    return Math.min(doc.byteLength, Math.round(bytes));
  };
  return Object.assign(at, {
    after: (s: TextSection) => {
      if (s.sourceEnd !== undefined) before = s.sourceEnd;
    },
  });
}

/**
 * A title that is not part of the body (BEIR records, HTML <title>, documents handed over
 * with a title) is embedded with every chunk of its document: it often carries the words a
 * query uses.
 */
function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function asyncIteratorOf<T>(src: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in src) return (src as AsyncIterable<T>)[Symbol.asyncIterator]();
  return (async function* () {
    yield* src as Iterable<T>;
  })();
}
