/**
 * The batch loop of an ingest: reads the source's documents, chunks them by the model's
 * tokens, embeds each batch (reusing the embedding cache) and commits it, pipelined so that
 * reading and chunking overlap the embedding; seals what was committed as one version.
 */
import { createHash } from 'node:crypto';
import { chunkSections } from '../chunk/chunker.js';
import { embedHash, titlePrefix } from '../embed/embed-input.js';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { DiskFullError, IndexInterruptedError, isDiskFull, type CommittedState } from '../errors.js';
import type { LoadedDocument, LoadProblem, TextSection } from '../ingest/types.js';
import type { Collection } from '../store/collection.js';
import { chunkingLineage, modelLineage } from '../store/lineage.js';
import type { DocTextRow, DocumentRow, NewChunkRow } from '../store/metadata-db.js';
import type { ExternalVectorCache, IndexProgress, IndexReport, IngestOptions, IngestSource } from './ingest-types.js';

interface PendingChunk {
  row: Omit<NewChunkRow, 'segment' | 'row'>;
  embedText: string;
  /** Source bytes this chunk stands for (for progress): the estimated file position of its end minus the previous chunk's. */
  bytes: number;
}

/**
 * Writes the source's documents under one generation. Unchanged documents (same content
 * hash, model and chunking) are skipped. What was committed is sealed even if the run fails
 * or is stopped; a folder sync's removals join the same generation once every item was read.
 */
export async function ingestItems(
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
