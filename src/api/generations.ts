/**
 * Model upgrades without silent breakage. `reindex` builds a shadow generation (new model,
 * chunking or index) from the live generation's stored text while the live one keeps
 * serving; `promote` judges shadow against live on the collection's held-out queries and
 * switches only when it is not worse (one atomic rename of the deployment file);
 * `rollbackGeneration` returns to the previous generation the same way; `gcGenerations` drops
 * retired generations beyond the retention count. Before any switch, the generation taking
 * over is caught up with documents written to the live one meanwhile, under the live
 * generation's writer lock, so no acknowledged write is lost by a switch.
 */
import { LocalReader } from '../store/local/local-reader.js';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity, type ModelIdentity } from '../embed/identity.js';
import { assertSameModel, assertTrustedModel } from '../embed/trust.js';
import { judgeMode } from '../eval/judge.js';
import { judgmentsFromRecords, readJudgments, parseJudgments, writeJudgments } from '../eval/judgments.js';
import { CollectionLockedError, CollectionNotFoundError, GateRefusedError, InvalidInputError, NoShadowError } from '../errors.js';
import type { DocumentFormat, LoadItem } from '../ingest/types.js';
import { audited } from '../observe/audit.js';
import { SearchSession } from '../retrieve/session.js';
import { Collection, collectionExists } from '../store/collection.js';
import { updateSearchIndexes, type AnnState } from '../store/collection-index.js';
import {
  DEFAULT_GENERATION_RETENTION,
  DEPLOYMENT_FORMAT,
  deploymentLockFile,
  generationDirName,
  readDeploymentFile,
  writeDeployment,
  type Deployment,
  type GateResult,
  type GateRow,
  type GenerationEntry,
} from '../store/deployment.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import { readSegment, type SegmentRecord } from '../store/vector-segments.js';
import { WriterLock } from '../store/writer-lock.js';
import type { switchReport } from '../server/schemas.js';
import { parseMode } from './evaluate.js';
import { createWithModel, ingestInto, type ExternalVectorCache, type IndexProgress, type IngestSource } from './ingest.js';
import { loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

/** Default tolerance of the gate: half a point of nDCG@10 and of Recall@100. */
export const DEFAULT_GATE_TOLERANCE = 0.005;
export const DEFAULT_GATE_MODE = 'vector';

export interface GenerationOptions extends CollectionOptions {
  /** Loads a model by reference (tests hand in stand-ins); default: verified files from the models folder. */
  loadEmbedder?: (ref: string) => Promise<Embedder>;
}

function entryFor(id: number, dir: string, m: { createdAt: string; model: ModelIdentity; chunking: ChunkingSettings; index: IndexSettings }, state: GenerationEntry['state']): GenerationEntry {
  return { id, dir, state, createdAt: m.createdAt, model: describeIdentity(m.model), chunking: m.chunking, index: m.index };
}

/** The collection's generations; one that never had a second is generation 1, live. */
export async function listGenerations(opts: CollectionOptions = {}): Promise<Deployment> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  const file = readDeploymentFile(dataDir, name);
  if (file) return file;
  const c = await Collection.open(dataDir, name, 'read');
  try {
    return {
      format: DEPLOYMENT_FORMAT,
      collection: name,
      live: 1,
      shadow: null,
      previous: [],
      retention: DEFAULT_GENERATION_RETENTION,
      nextGeneration: 2,
      generations: [entryFor(1, name, c.manifest, 'live')],
    };
  } finally {
    await c.close();
  }
}

/** Runs `fn` holding the deployment lock: one reindex, promote, rollback or gc at a time. */
async function withDeploymentLock<T>(dataDir: string, name: string, fn: () => Promise<T>): Promise<T> {
  const lock = await WriterLock.acquire(deploymentLockFile(dataDir, name), name);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

const embedderLoader = (opts: GenerationOptions) => opts.loadEmbedder ?? ((ref: string) => loadEmbedder(ref, opts.modelsDir));

/** The live documents of a generation (its pinned version) as an ingest source, from their stored text. */
function generationSource(c: Collection, note: string): IngestSource {
  const docs = c.db.liveDocuments(c.pinnedGeneration);
  return {
    note,
    bytesTotal: async () => docs.reduce((n, d) => n + d.byte_length, 0),
    items: async function* (): AsyncGenerator<LoadItem> {
      for (const d of docs) {
        yield {
          kind: 'document',
          doc: {
            docId: d.doc_id,
            source: d.source,
            ...(d.locator ? { locator: d.locator } : {}),
            format: d.format as DocumentFormat,
            ...(d.title !== null ? { title: d.title } : {}),
            metadata: JSON.parse(d.metadata) as Record<string, unknown>,
            contentHash: d.content_hash,
            byteLength: d.byte_length,
            sections: c.documentSections(d.doc_id, d.version),
          },
        };
      }
    },
  };
}

/**
 * The embedding cache across generations: vectors other kept generations hold for the very
 * same input (the hash covers the model identity and the exact text), read from their
 * segment files. Only generations built with the same model are consulted.
 */
export class GenerationVectorCache implements ExternalVectorCache {
  private readonly segments = new Map<Collection, Map<number, SegmentRecord>>();
  private readonly loaded = new Map<string, Float32Array>();

  private constructor(private readonly sources: Collection[]) {
    for (const c of sources) this.segments.set(c, new Map(c.db.segments().map((s) => [s.id, s])));
  }

  static async open(dataDir: string, name: string, d: Deployment, identity: ModelIdentity, exclude: number): Promise<GenerationVectorCache> {
    const want = describeIdentity(identity);
    const sources: Collection[] = [];
    for (const g of d.generations) {
      if (g.id === exclude || g.model !== want || g.state === 'building' || g.state === 'failed') continue;
      try {
        sources.push(await Collection.open(dataDir, name, 'read', g.id));
      } catch {
        // a generation that cannot be opened is simply no cache
      }
    }
    return new GenerationVectorCache(sources);
  }

  async get(embedHash: string): Promise<Float32Array | null> {
    for (const c of this.sources) {
      const ref = c.db.cachedVector(embedHash);
      if (!ref) continue;
      const seg = this.segments.get(c)!.get(ref.segment);
      if (!seg) continue;
      const key = `${c.paths.dir}/${seg.file}`;
      let data = this.loaded.get(key);
      if (!data) {
        // Whole segments are read and kept: a reindex walks them in order, so each is read once.
        if (this.loaded.size >= 64) this.loaded.delete(this.loaded.keys().next().value!);
        data = await readSegment(join(c.paths.vectors, seg.file), seg, c.name);
        this.loaded.set(key, data);
      }
      const dims = c.manifest.model.dims;
      return data.slice(ref.row * dims, (ref.row + 1) * dims);
    }
    return null;
  }

  async close(): Promise<void> {
    for (const c of this.sources) await c.close();
  }
}

export interface ReindexOptions extends GenerationOptions {
  /** Model reference for the new generation (default: the live generation's). */
  model?: string;
  chunkTokens?: number;
  overlapTokens?: number;
  index?: IndexSettings;
  batchChunks?: number;
  onProgress?: (p: IndexProgress) => void;
  onNote?: (note: string) => void;
}

export interface ReindexReport {
  collection: string;
  /** The shadow generation built. */
  generation: number;
  live: number;
  model: string;
  chunking: ChunkingSettings;
  index: IndexSettings;
  documents: number;
  chunks: number;
  /** Chunks whose vector came from an embedding already stored (this or another generation). */
  cacheHits: number;
  /** Chunks the model embedded in this run. */
  chunksEmbedded: number;
  /** Share of chunks not embedded again: 1 when nothing was. */
  cacheHitRate: number;
  /** The shadow generation this one replaced (removed), if any. */
  replacedShadow: number | null;
  ann: AnnState | null;
  notes: string[];
  elapsedMs: number;
}

/**
 * Builds a shadow generation with the given model, chunking and index from the live
 * generation's documents while the live one keeps serving. A shadow built before is replaced
 * (its vectors still serve as cache for this build).
 */
export async function reindex(opts: ReindexOptions): Promise<ReindexReport> {
  const started = performance.now();
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  return audited(
    dataDir,
    {
      actor: opts.actor,
      action: 'reindex',
      target: name,
      detail: (r: ReindexReport) => ({ generation: r.generation, model: r.model, chunking: r.chunking, index: r.index, cacheHitRate: r.cacheHitRate }),
    },
    () =>
      withDeploymentLock(dataDir, name, async () => {
        let d = await listGenerations({ dataDir, collection: name });
        d = await dropStaleBuilds(dataDir, d);
        const live = await Collection.open(dataDir, name, 'read', d.live);
        let embedder: Embedder | undefined;
        const id = d.nextGeneration;
        let built: Collection | undefined;
        let cache: GenerationVectorCache | undefined;
        try {
          live.pinHead();
          const m = live.manifest;
          embedder = await embedderLoader(opts)(opts.model ?? refOf(m.model));
          const chunking: ChunkingSettings = { chunkTokens: opts.chunkTokens ?? m.chunking.chunkTokens, overlapTokens: opts.overlapTokens ?? m.chunking.overlapTokens };
          const index = opts.index ?? (embedder.identity.dims === m.model.dims ? m.index : { type: m.index.type });
          const entry: GenerationEntry = {
            id,
            dir: generationDirName(name, id),
            state: 'building',
            createdAt: new Date().toISOString(),
            model: describeIdentity(embedder.identity),
            chunking,
            index,
            note: `reindexed from generation ${d.live}`,
          };
          d = { ...d, nextGeneration: id + 1, generations: [...d.generations, entry] };
          await writeDeployment(dataDir, d); // a crash leaves a visible build that gc removes
          ({ collection: built } = await createWithModel({ dataDir, collection: name, generation: id, embedder, ...chunking, index }));
          cache = await GenerationVectorCache.open(dataDir, name, d, embedder.identity, id);
          const report = await ingestInto(
            built,
            embedder,
            generationSource(live, `reindex of generation ${d.live} (version ${live.pinnedGeneration})`),
            { batchChunks: opts.batchChunks, onProgress: opts.onProgress, onNote: opts.onNote, externalCache: cache },
            { created: true, started },
          );
          const counts = built.db.counts();
          const cacheHitRate = report.chunksWritten === 0 ? 1 : Math.round((1 - report.chunksEmbedded / report.chunksWritten) * 1e4) / 1e4;
          const replaced = d.shadow;
          entry.state = 'shadow';
          entry.build = { documents: counts.documents, chunks: counts.chunks, cacheHits: report.cacheHits, chunksEmbedded: report.chunksEmbedded, elapsedMs: report.elapsedMs };
          d = { ...d, shadow: id, generations: d.generations.filter((g) => g.id !== replaced) };
          await cache.close();
          cache = undefined;
          await built.close();
          built = undefined;
          await writeDeployment(dataDir, d);
          if (replaced !== null) await rm(join(resolve(dataDir), generationDirName(name, replaced)), { recursive: true, force: true });
          return {
            collection: name,
            generation: id,
            live: d.live,
            model: entry.model,
            chunking,
            index,
            documents: counts.documents,
            chunks: counts.chunks,
            cacheHits: report.cacheHits,
            chunksEmbedded: report.chunksEmbedded,
            cacheHitRate,
            replacedShadow: replaced,
            ann: report.ann,
            notes: report.notes,
            elapsedMs: Math.round(performance.now() - started),
          };
        } catch (e) {
          await cache?.close();
          await built?.close();
          // an unfinished build is removed; the deployment forgets it
          if (d.generations.some((g) => g.id === id && g.state === 'building')) {
            await rm(join(resolve(dataDir), generationDirName(name, id)), { recursive: true, force: true });
            await writeDeployment(dataDir, { ...d, generations: d.generations.filter((g) => g.id !== id) }).catch(() => undefined);
          }
          throw e;
        } finally {
          if (embedder && !opts.loadEmbedder) await embedder.close();
          await live.close();
        }
      }),
  );
}

/**
 * Builds left `building` by a crashed reindex: the caller holds the deployment lock, so no
 * build is running; their folders and entries go.
 */
async function dropStaleBuilds(dataDir: string, d: Deployment): Promise<Deployment> {
  const stale = d.generations.filter((g) => g.state === 'building');
  if (stale.length === 0) return d;
  for (const g of stale) await rm(join(resolve(dataDir), g.dir), { recursive: true, force: true });
  const next = { ...d, generations: d.generations.filter((g) => g.state !== 'building') };
  await writeDeployment(dataDir, next);
  return next;
}

export interface JudgmentsReport {
  collection: string;
  queries: number;
  judgments: number;
  source: string;
}

/**
 * Sets the collection's held-out judgments from a BEIR folder or a JSON Lines file (`path`),
 * or from records handed over (`records`, as the HTTP API does).
 */
export async function setJudgments(opts: CollectionOptions & ({ path: string; split?: string } | { records: unknown[]; source?: string })): Promise<JudgmentsReport> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  return audited(dataDir, { actor: opts.actor, action: 'judgments.set', target: name, detail: (r: JudgmentsReport) => ({ queries: r.queries, source: r.source }) }, async () => {
    if (!collectionExists(dataDir, name)) throw new CollectionNotFoundError(name, resolve(dataDir));
    const j = 'records' in opts ? judgmentsFromRecords(opts.records, (i) => `queries[${i}]`) : await parseJudgments(opts.path, opts.split);
    const source = 'records' in opts ? (opts.source ?? 'HTTP API') : resolve(opts.path) + (opts.split ? ` (${opts.split})` : '');
    await writeJudgments(dataDir, name, source, j);
    return { collection: name, queries: j.queries.length, judgments: [...j.qrels.values()].reduce((n, m) => n + m.size, 0), source };
  });
}

async function judgeGeneration(dataDir: string, name: string, g: number, mode: string, opts: GenerationOptions, j: NonNullable<Awaited<ReturnType<typeof readJudgments>>>): Promise<GateRow> {
  const spec = { spec: mode, ...parseMode(mode) };
  if (spec.rerank) throw new InvalidInputError('the gate compares first-stage retrieval; choose vector, bm25 or hybrid', { field: 'mode' });
  const c = await Collection.open(dataDir, name, 'read', g);
  let embedder: Embedder | undefined;
  let session: SearchSession | undefined;
  try {
    c.pinHead();
    if (spec.mode !== 'bm25') {
      embedder = await embedderLoader(opts)(refOf(c.manifest.model));
      assertSameModel(name, c.manifest.model, embedder.identity);
    }
    session = new SearchSession(LocalReader.wrap(c), embedder ?? null, null);
    await session.warm([spec.mode]);
    const r = await judgeMode(session, c.db.liveChunkDocIds(), j.queries, j.qrels, spec, { k: 10 });
    return { generation: g, model: describeIdentity(c.manifest.model), 'ndcg@10': r['ndcg@10'], 'recall@100': r['recall@100'] };
  } finally {
    session?.close();
    if (embedder && !opts.loadEmbedder) await embedder.close();
    await c.close();
  }
}

/**
 * Catches generation `targetId` up with the live one: documents written to live since the
 * target was built (or since it stopped being live) are chunked and embedded with the
 * target's own model; documents no longer live are taken out. Runs under both writer locks.
 */
async function catchUp(dataDir: string, name: string, liveId: number, targetId: number, opts: GenerationOptions, d: Deployment): Promise<{ documentsWritten: number; documentsRemoved: number; live: Collection }> {
  const live = await Collection.open(dataDir, name, 'write', liveId);
  let target: Collection | undefined;
  let embedder: Embedder | undefined;
  let cache: GenerationVectorCache | undefined;
  try {
    target = await Collection.open(dataDir, name, 'write', targetId);
    embedder = await embedderLoader(opts)(refOf(target.manifest.model));
    await assertTrustedModel(name, target.manifest, embedder);
    cache = await GenerationVectorCache.open(dataDir, name, d, embedder.identity, targetId);
    const report = await ingestInto(target, embedder, generationSource(live, `caught up with generation ${liveId}`), { externalCache: cache });
    const liveIds = new Set(live.db.liveDocs().keys());
    const stale = [...target.db.liveDocs().keys()].filter((id) => !liveIds.has(id));
    if (stale.length > 0) {
      const gen = target.beginWrite();
      target.unpublish(stale, gen);
      target.endWrite(gen, 'delete', `caught up with generation ${liveId}: ${stale.length} documents deleted there`);
      await updateSearchIndexes(target);
    }
    return { documentsWritten: report.documentsAdded + report.documentsUpdated, documentsRemoved: stale.length, live };
  } catch (e) {
    await live.close();
    throw e;
  } finally {
    await cache?.close();
    await target?.close();
    if (embedder && !opts.loadEmbedder) await embedder.close();
  }
}

export interface PromoteOptions extends GenerationOptions {
  /** Largest allowed drop of nDCG@10 and of Recall@100 (default 0.005, half a point). */
  tolerance?: number;
  /** Search mode the gate compares (default vector: the model's own ranking). */
  mode?: string;
  /** Promote even if the gate refuses or no judgments are set (written to the audit log). */
  force?: boolean;
}

/** What promote and rollback answer: the generation now live, the one before, the gate. One definition: the wire schema. */
export type SwitchReport = FromSchema<typeof switchReport>;

/** Judges the shadow against live on the held-out judgments and makes it live when it is not worse. */
export async function promote(opts: PromoteOptions): Promise<SwitchReport> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  const tolerance = opts.tolerance ?? DEFAULT_GATE_TOLERANCE;
  if (!(tolerance >= 0 && tolerance <= 1)) throw new InvalidInputError(`tolerance must be from 0 to 1 (nDCG points / 100), got ${tolerance}`, { field: 'tolerance' });
  const mode = opts.mode ?? DEFAULT_GATE_MODE;
  return audited(
    dataDir,
    {
      actor: opts.actor,
      action: 'promote',
      target: name,
      forced: opts.force === true,
      detail: (r: SwitchReport) => ({ live: r.live, previous: r.previous, model: r.model, gate: r.gate }),
    },
    () =>
      withDeploymentLock(dataDir, name, async () => {
        let d = await listGenerations({ dataDir, collection: name });
        if (d.shadow === null) throw new NoShadowError(name);
        const shadowId = d.shadow;
        const j = await readJudgments(dataDir, name);
        let gate: GateResult | null = null;
        if (!j && !opts.force) {
          throw new InvalidInputError(
            `collection "${name}" has no held-out judgments, so the shadow cannot be judged; set them with \`quarry judgments set --collection ${name} <BEIR folder or queries.jsonl>\`, or promote with --force`,
            { field: 'judgments' },
          );
        }
        if (j) {
          const liveRow = await judgeGeneration(dataDir, name, d.live, mode, opts, j);
          const shadowRow = await judgeGeneration(dataDir, name, shadowId, mode, opts, j);
          const eps = 1e-9;
          const passed = shadowRow['ndcg@10'] >= liveRow['ndcg@10'] - tolerance - eps && shadowRow['recall@100'] >= liveRow['recall@100'] - tolerance - eps;
          gate = { at: new Date().toISOString(), mode, queries: j.queries.length, tolerance, live: liveRow, shadow: shadowRow, passed, forced: !passed && opts.force === true };
          const judged = gate;
          d = { ...d, generations: d.generations.map((g) => (g.id === shadowId ? { ...g, gate: judged } : g)) };
          await writeDeployment(dataDir, d);
          if (!passed && !opts.force) throw new GateRefusedError(gate);
        }
        return switchLive(dataDir, name, d, shadowId, opts, gate);
      }),
  );
}

/** Catches `to` up with live under live's writer lock, then makes it live in one rename. */
async function switchLive(dataDir: string, name: string, d: Deployment, to: number, opts: GenerationOptions & { force?: boolean }, gate: GateResult | null): Promise<SwitchReport> {
  const from = d.live;
  const { documentsWritten, documentsRemoved, live } = await catchUp(dataDir, name, from, to, opts, d);
  try {
    const now = new Date().toISOString();
    const rollingBack = d.previous.at(-1) === to;
    const next: Deployment = {
      ...d,
      live: to,
      shadow: d.shadow === to ? null : d.shadow,
      previous: rollingBack ? d.previous.slice(0, -1) : [...d.previous, from],
      generations: d.generations.map((g) =>
        g.id === to ? { ...g, state: 'live', promotedAt: now } : g.id === from ? { ...g, state: 'retired', retiredAt: now } : g,
      ),
    };
    // The switch: one atomic rename; searches already running finish on the old generation.
    await writeDeployment(dataDir, next);
    return {
      collection: name,
      live: to,
      previous: from,
      model: next.generations.find((g) => g.id === to)!.model,
      gate,
      forced: opts.force === true && (gate === null || !gate.passed),
      caughtUp: { documentsWritten, documentsRemoved },
    };
  } finally {
    await live.close(); // writes to the old generation were held off until the switch
  }
}

/** Makes the generation that was live before the current one live again. */
export async function rollbackGeneration(opts: GenerationOptions): Promise<SwitchReport> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  return audited(
    dataDir,
    { actor: opts.actor, action: 'rollback', target: name, detail: (r: SwitchReport) => ({ live: r.live, previous: r.previous, model: r.model, kind: 'generation' }) },
    () =>
      withDeploymentLock(dataDir, name, async () => {
        const d = await listGenerations({ dataDir, collection: name });
        const to = d.previous.at(-1);
        if (to === undefined || !d.generations.some((g) => g.id === to)) {
          throw new InvalidInputError(
            `collection "${name}" has no earlier generation to return to (generation ${d.live} is the first kept); to roll back its content, name a version: \`quarry rollback <version>\` (see \`quarry versions\`)`,
            { field: 'generation' },
          );
        }
        return switchLive(dataDir, name, d, to, opts, null);
      }),
  );
}

export interface GenerationGcReport {
  generationsRemoved: number[];
  bytesReclaimed: number;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await dirBytes(p);
    else n += (await stat(p).catch(() => null))?.size ?? 0;
  }
  return n;
}

/**
 * Removes retired generations beyond the newest `keep` (default: the deployment's retention)
 * and failed builds, and reports the bytes reclaimed. The live and shadow generations stay.
 */
export async function gcGenerations(opts: CollectionOptions & { keep?: number } = {}): Promise<GenerationGcReport> {
  const dataDir = dataDirOf(opts);
  const name = collectionOf(opts);
  if (!readDeploymentFile(dataDir, name)) return { generationsRemoved: [], bytesReclaimed: 0 };
  return withDeploymentLock(dataDir, name, async () => {
    const d = await listGenerations({ dataDir, collection: name });
    const keep = opts.keep ?? d.retention;
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidInputError(`keep must be a whole number, got ${keep}`, { field: 'keep' });
    const retired = d.generations.filter((g) => g.state === 'retired').sort((a, b) => (b.retiredAt ?? '').localeCompare(a.retiredAt ?? ''));
    // a `building` entry seen under the deployment lock is a crashed reindex's
    const drop = [...retired.slice(keep), ...d.generations.filter((g) => g.state === 'failed' || g.state === 'building')];
    const removed: number[] = [];
    let bytes = 0;
    for (const g of drop) {
      const dir = join(resolve(dataDir), g.dir);
      let lock: WriterLock;
      try {
        lock = await WriterLock.acquire(join(dir, 'write.lock'), name);
      } catch (e) {
        if (e instanceof CollectionLockedError) continue; // in use: left for the next gc
        throw e;
      }
      const b = await dirBytes(dir);
      // forget it first: a crash between the two steps leaves a folder, never a dangling entry
      const next = { ...d, previous: d.previous.filter((p) => p !== g.id), generations: d.generations.filter((x) => x.id !== g.id) };
      await writeDeployment(dataDir, next);
      Object.assign(d, next);
      await lock.release();
      await rm(dir, { recursive: true, force: true });
      removed.push(g.id);
      bytes += b;
    }
    return { generationsRemoved: removed, bytesReclaimed: bytes };
  });
}
