/**
 * The server's collections, each kept warm: its model loaded and verified against the stored
 * identity and fingerprint, its vector and BM25 indexes in memory, a warm-up query run. A
 * search borrows the collection's current *view* (a read-only handle pinned to one sealed
 * version, with its search session) for its whole run, so it sees one version even while an
 * ingest commits: a new version gets a new view, swapped in once it is warm; the old one is
 * closed when its last search returns.
 *
 * Writes through the server (upsert, delete, rollback, evaluation) run one at a time per
 * collection and swap in the new view before they answer, so a client reads its own writes.
 * A write by another process (the CLI) is noticed by the next search, which waits for the
 * new view.
 */
import { LocalReader } from '../store/local/local-reader.js';
import { collectionNames, createCollection, deleteCollection, type CollectionSummary } from '../api/collections.js';
import type { CollectionSettings } from '../api/ingest.js';
import { loadEmbedder, refOf } from '../api/load-model.js';
import { DEFAULT_MODEL } from '../api/options.js';
import type { Embedder } from '../embed/embedder.js';
import { describeIdentity } from '../embed/identity.js';
import { assertTrustedModel } from '../embed/trust.js';
import { CollectionNotFoundError, isQuarryError } from '../errors.js';
import { forgetCollectionGauges, recordCanary, setCollectionGauges } from '../observe/metrics.js';
import { withSpan } from '../observe/tracing.js';
import { loadReranker } from '../retrieve/rerank.js';
import { SearchSession } from '../retrieve/session.js';
import { Collection, collectionExists, collectionPaths, validateCollectionName } from '../store/collection.js';
import { readAnnState } from '../store/collection-index.js';
import { readDeploymentFile } from '../store/deployment.js';
import { HttpError } from './http-errors.js';
import { canaryStatsOf, compareWithShadow, newCanaryTally } from './canary.js';
import { LazyReranker } from './lazy-reranker.js';
import type { CanaryStats, CollectionStatus, Lease, RegistryOptions, Slot, View } from './registry-types.js';

export type { CanaryStats, CollectionState, CollectionStatus, Lease, RegistryOptions, View } from './registry-types.js';
export { LazyReranker } from './lazy-reranker.js';

/** How long a collection refused for damaged files stays refused before a request checks it again. */
const DAMAGED_RETRY_MS = 10_000;

function errorInfo(e: unknown): { code: string; message: string } {
  if (isQuarryError(e)) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
}

export class CollectionRegistry {
  private readonly slots = new Map<string, Slot>();
  private readonly embedders = new Map<string, Promise<Embedder>>();
  readonly reranker: LazyReranker;
  private closed = false;

  constructor(private readonly opts: RegistryOptions) {
    this.reranker = new LazyReranker(opts.loadReranker ?? (() => loadReranker(undefined, opts.modelsDir, { offThread: true })));
  }

  get dataDir(): string {
    return this.opts.dataDir;
  }

  /** Finds the collections on disk and starts warming each (not awaited: /readyz reports progress). */
  async start(): Promise<void> {
    await this.discover();
  }

  /** Adds collections that appeared on disk since (another process created them) and warms them. */
  async discover(): Promise<void> {
    for (const name of await collectionNames(this.opts.dataDir)) this.slotFor(name);
  }

  private slotFor(name: string): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = {
        name,
        state: 'loading',
        embedder: null,
        view: null,
        loading: null,
        refreshing: null,
        writes: Promise.resolve(),
        shadow: null,
        shadowLoading: null,
        canaryInFlight: 0,
        canary: null,
      };
      this.slots.set(name, slot);
      const s = slot;
      s.loading = this.warm(s).finally(() => (s.loading = null));
    }
    return slot;
  }

  /** One embedder per model reference, shared by the collections built with it. */
  private embedderFor(ref: string): Promise<Embedder> {
    let e = this.embedders.get(ref);
    if (!e) {
      e = (this.opts.loadEmbedder ?? ((r: string) => loadEmbedder(r, this.opts.modelsDir, { offThread: true })))(ref);
      this.embedders.set(ref, e);
      e.catch(() => this.embedders.delete(ref)); // not provisioned yet: a later warm-up may find it
    }
    return e;
  }

  /**
   * Loads a collection for serving: its model, checked against the stored identity and
   * fingerprint (a mismatch or drift refuses the collection, the others still serve), its
   * indexes, then one warm-up query.
   */
  private async warm(slot: Slot): Promise<void> {
    try {
      await withSpan('quarry.warmup', { 'quarry.collection': slot.name }, async () => {
        const probe = await Collection.open(this.opts.dataDir, slot.name, 'read');
        try {
          slot.embedder = await this.checkedEmbedder(slot.name, probe);
          slot.embedderDir = probe.paths.dir;
        } finally {
          await probe.close();
        }
        await this.opts.beforeWarmup?.(slot.name);
        const view = await this.openView(slot);
        // not traffic: kept out of the search metrics and traces
        await view.session.retrieve('warm up', { mode: 'hybrid', k: 1, observe: false });
        this.install(slot, view);
      });
      slot.state = 'ready';
      slot.error = undefined;
      this.opts.log?.info({ collection: slot.name, version: slot.view?.generation }, 'collection ready');
      await this.updateGauges(slot).catch(() => undefined);
    } catch (e) {
      const info = errorInfo(e);
      // a model that is not the collection's, or no longer reproduces its fingerprint: refused
      slot.state = isQuarryError(e) && (e.code === 'MODEL_MISMATCH' || e.code === 'MODEL_DRIFT') ? 'refused' : 'failed';
      slot.error = this.publicError(info);
      if (isQuarryError(e) && (e.code === 'COLLECTION_CORRUPT' || e.code === 'INDEX_FILE_CORRUPT')) slot.failedAt = Date.now();
      this.opts.log?.error({ collection: slot.name, error: info }, 'collection cannot serve');
    }
  }

  /** The collection's model, loaded and checked against its stored identity and fingerprint. */
  private async checkedEmbedder(name: string, c: Collection): Promise<Embedder> {
    const embedder = await this.embedderFor(refOf(c.manifest.model));
    await assertTrustedModel(name, c.manifest, embedder);
    return embedder;
  }

  /**
   * Opens the live generation's current version. A generation the slot did not serve before
   * (a promotion or generation rollback happened) gets its own model, checked first; searches
   * on the old view keep the old model until they finish.
   */
  private async openView(slot: Slot): Promise<View> {
    const collection = await Collection.open(this.opts.dataDir, slot.name, 'read');
    try {
      const dir = collection.paths.dir;
      const known = slot.view?.dir === dir ? slot.view.embedder : slot.embedderDir === dir ? slot.embedder : null;
      const embedder = known ?? (await this.checkedEmbedder(slot.name, collection));
      const generation = collection.pinHead();
      // damage met while answering (a result's text, a row read from disk) takes the collection out of service too
      const reader = LocalReader.wrap(collection, (e) => {
        if (slot.view?.collection === collection) this.failIfDamaged(slot, e);
      });
      const session = new SearchSession(reader, embedder, this.reranker);
      await session.warm(['vector', 'bm25']);
      slot.embedder = embedder;
      slot.embedderDir = dir;
      return { collection, session, embedder, dir, generation, refs: 0, retired: false };
    } catch (e) {
      await collection.close();
      throw e;
    }
  }

  /** Makes `view` the one new searches get; the old one closes when its last search returns. */
  private install(slot: Slot, view: View): void {
    const old = slot.view;
    slot.view = view;
    if (old) this.retire(old);
  }

  private retire(view: View): void {
    view.retired = true;
    if (view.refs === 0) void this.closeView(view);
  }

  private async closeView(view: View): Promise<void> {
    view.session.close();
    await view.collection.close().catch(() => undefined);
  }

  private async refresh(slot: Slot): Promise<void> {
    slot.refreshing ??= (async () => {
      try {
        this.install(slot, await this.openView(slot));
        await this.updateGauges(slot).catch(() => undefined);
      } catch (e) {
        this.failIfDamaged(slot, e);
        throw e;
      } finally {
        slot.refreshing = null;
      }
    })();
    return slot.refreshing;
  }

  /**
   * A new version whose files fail verification: the collection stops serving (503, /readyz
   * lists it failed with the damaged file) rather than answer from the old view while its
   * files on disk are known bad. Other collections are untouched.
   */
  /** A collection's error as clients read it (status, 503s): the server's paths out; the log keeps them. */
  private publicError(info: ReturnType<typeof errorInfo>): { code: string; message: string } {
    return { code: info.code, message: this.opts.redact ? this.opts.redact(info.message) : info.message };
  }

  private failIfDamaged(slot: Slot, e: unknown): void {
    if (!isQuarryError(e) || e.category !== 'integrity' || e.code === 'MODEL_DRIFT' || e.code === 'MODEL_INTEGRITY') return;
    slot.state = 'failed';
    const info = errorInfo(e);
    slot.error = this.publicError(info);
    slot.failedAt = Date.now();
    if (slot.view) this.retire(slot.view);
    slot.view = null;
    this.opts.log?.error({ collection: slot.name, error: info }, 'collection cannot serve');
  }

  /** The slot of a collection that exists (found on disk if the server did not know it yet). */
  private existing(name: string): Slot {
    validateCollectionName(name);
    const known = this.slots.get(name);
    if (!collectionExists(this.opts.dataDir, name)) {
      if (known) this.forget(known);
      throw new CollectionNotFoundError(name, this.opts.dataDir);
    }
    return known ?? this.slotFor(name);
  }

  /** Waits for the collection to finish warming; throws 503 when it cannot serve. */
  private async serving(name: string): Promise<Slot> {
    if (this.closed) throw new HttpError(503, 'SHUTTING_DOWN', 'the server is shutting down');
    const slot = this.existing(name);
    if (!slot.loading && slot.state === 'failed' && slot.failedAt !== undefined && Date.now() - slot.failedAt >= (this.opts.damagedRetryMs ?? DAMAGED_RETRY_MS)) {
      // damaged files may have been repaired or restored since (`quarry repair`): verify again, at most this often
      slot.failedAt = undefined;
      slot.loading = this.warm(slot).finally(() => (slot.loading = null));
    }
    if (slot.loading) await slot.loading;
    if (slot.state !== 'ready' || !slot.view || !slot.embedder) {
      const why = slot.error ? `${slot.error.message}` : 'it is not loaded';
      throw new HttpError(503, 'COLLECTION_UNAVAILABLE', `collection "${name}" is not serving: ${why}`);
    }
    return slot;
  }

  /**
   * Makes the slot's view the current sealed version (a few rounds at most, should writers
   * keep sealing meanwhile). A refresh already under way is joined, then checked again: it
   * may have pinned the version before the one the caller needs.
   */
  private async catchUp(slot: Slot): Promise<void> {
    for (let round = 0; round < 3; round++) {
      if (slot.refreshing) {
        await slot.refreshing;
        continue;
      }
      const view = slot.view;
      if (!view || (view.collection.db.head() === view.generation && collectionPaths(this.opts.dataDir, slot.name).dir === view.dir)) return;
      await this.refresh(slot);
    }
  }

  /** Borrows the collection's current view for one search (catching up with writes made elsewhere first). */
  async acquire(name: string): Promise<Lease> {
    const slot = await this.serving(name);
    await this.catchUp(slot);
    if (!slot.view) throw new HttpError(503, 'COLLECTION_UNAVAILABLE', `collection "${name}" is not serving: it was deleted`);
    const view = slot.view;
    view.refs++;
    let released = false;
    return {
      view,
      embedder: view.embedder,
      release: () => {
        if (released) return;
        released = true;
        view.refs--;
        if (view.retired && view.refs === 0) void this.closeView(view);
      },
    };
  }

  /**
   * Runs a write on a serving collection, one at a time per collection, then swaps in the
   * new version's view before it returns. `fn` gets the collection's verified embedder.
   */
  async write<T>(name: string, fn: (embedder: Embedder) => Promise<T>): Promise<T> {
    const slot = await this.serving(name);
    return this.exclusive(slot, async () => {
      try {
        await this.catchUp(slot); // the live generation may have changed (a promotion by the CLI)
        return await fn(slot.view?.embedder ?? slot.embedder!);
      } finally {
        // the new version is served before the write answers (a write that sealed none keeps the view)
        if (slot.state === 'ready' && collectionExists(this.opts.dataDir, name)) {
          await this.catchUp(slot).catch((e: unknown) => this.opts.log?.warn({ collection: name, err: e }, 'cannot load the new version yet; the next search retries'));
        }
      }
    });
  }

  private exclusive<T>(slot: Slot, fn: () => Promise<T>): Promise<T> {
    const run = slot.writes.then(fn);
    slot.writes = run.catch(() => undefined);
    return run;
  }

  /** Creates a collection and warms it before answering, so it can be searched at once. */
  async create(name: string, settings: Omit<CollectionSettings, 'embedder'> & { actor?: string }): Promise<{ summary: CollectionSummary; status: CollectionStatus }> {
    validateCollectionName(name);
    const embedder = await this.embedderFor(settings.model ?? DEFAULT_MODEL);
    const summary = await createCollection({ dataDir: this.opts.dataDir, collection: name, ...settings, embedder });
    const slot = this.slotFor(name);
    if (slot.loading) await slot.loading;
    return { summary, status: this.statusOf(slot) };
  }

  /** Deletes a collection: waits for this server's writes to it, refuses while another process writes. */
  async delete(name: string, actor?: string): Promise<void> {
    const slot = this.existing(name);
    if (slot.loading) await slot.loading;
    await this.exclusive(slot, async () => {
      await deleteCollection({ dataDir: this.opts.dataDir, collection: name, actor });
      this.forget(slot);
    });
  }

  private forget(slot: Slot): void {
    if (this.slots.get(slot.name) === slot) this.slots.delete(slot.name);
    this.dropShadow(slot);
    if (slot.view) this.retire(slot.view);
    slot.view = null;
    forgetCollectionGauges(slot.name);
  }

  /** The verified embedder of a serving collection, or the model a new one would be made with. */
  async embedderForNew(model: string | undefined): Promise<Embedder> {
    return this.embedderFor(model ?? DEFAULT_MODEL);
  }

  /** Runs `fn` as a write on `name` when it exists; when it does not, under no lock (it will create it). */
  async writeOrCreate<T>(name: string, model: string | undefined, fn: (embedder: Embedder) => Promise<T>): Promise<T> {
    if (collectionExists(this.opts.dataDir, validateCollectionName(name))) return this.write(name, fn);
    const out = await fn(await this.embedderForNew(model));
    const slot = this.slotFor(name);
    if (slot.loading) await slot.loading;
    return out;
  }

  private statusOf(slot: Slot): CollectionStatus {
    return {
      name: slot.name,
      state: slot.state,
      ...(slot.view && slot.state === 'ready' ? { version: slot.view.generation } : {}),
      ...(slot.view ? { model: describeIdentity(slot.view.collection.manifest.model) } : {}),
      ...(slot.error ? { error: slot.error } : {}),
    };
  }

  /** Every known collection's state; ready when none is still loading. */
  status(): { ready: boolean; collections: CollectionStatus[] } {
    const collections = [...this.slots.values()].sort((a, b) => a.name.localeCompare(b.name)).map((s) => this.statusOf(s));
    return { ready: !this.closed && collections.every((c) => c.state !== 'loading'), collections };
  }

  statusFor(name: string): CollectionStatus | undefined {
    const slot = this.slots.get(name);
    return slot ? this.statusOf(slot) : undefined;
  }

  /** Brings the size gauges of every serving collection up to date (before a /metrics scrape). */
  async updateAllGauges(): Promise<void> {
    for (const slot of this.slots.values()) await this.updateGauges(slot).catch(() => undefined);
  }

  private async updateGauges(slot: Slot): Promise<void> {
    const view = slot.view;
    if (!view || view.retired || slot.state !== 'ready') return;
    const c = view.collection;
    const counts = c.db.counts(view.generation);
    const ann = readAnnState(c);
    const disk = await c.diskUsage();
    setCollectionGauges(slot.name, {
      documents: counts.documents,
      chunks: counts.chunks,
      vectors: counts.chunks,
      diskBytes: disk.total,
      // flat keeps every vector in memory; an ANN index reports its own size
      memoryBytes: ann && !ann.fallback ? ann.memoryBytes : counts.chunks * c.manifest.model.dims * 4,
    });
  }

  /**
   * Runs a change of the live generation (promote, generation rollback) one at a time with
   * this server's writes to the collection, then serves the new live generation before it
   * answers. Searches already running finish on the old one.
   */
  async deploymentChange<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const slot = await this.serving(name);
    return this.exclusive(slot, async () => {
      try {
        return await fn();
      } finally {
        await this.catchUp(slot).catch((e: unknown) => this.opts.log?.error({ collection: name, err: e }, 'cannot serve the new live generation'));
        this.dropShadow(slot);
      }
    });
  }

  /**
   * The canary: for a share of searches (canaryShare), the same query is answered by the
   * collection's shadow generation in the background, after the client has its answer, and
   * the two are compared: overlap of the top-10 documents and the shift of the top score go
   * to /metrics. What the client receives never depends on it. The shadow is opened on the
   * first sampled search (that one is not compared); at most two comparisons run at once.
   */
  canary(name: string, live: { results: ReadonlyArray<{ docId: string; score: number }> }, run: (view: View) => Promise<{ results: ReadonlyArray<{ docId: string; score: number }> }>): void {
    const share = this.opts.canaryShare ?? 0;
    if (share <= 0 || this.closed || Math.random() >= share) return;
    const slot = this.slots.get(name);
    if (!slot || slot.state !== 'ready') return;
    let shadowId: number | null = null;
    try {
      const d = readDeploymentFile(this.opts.dataDir, name);
      const g = d?.shadow != null ? d.generations.find((x) => x.id === d.shadow) : undefined;
      shadowId = g?.state === 'shadow' ? g.id : null;
    } catch {
      shadowId = null;
    }
    if (shadowId === null) return this.dropShadow(slot);
    if (!slot.shadow || slot.shadow.id !== shadowId) {
      this.loadShadow(slot, shadowId);
      return;
    }
    if (slot.canaryInFlight >= 2) return;
    const view = slot.shadow.view;
    const id = shadowId;
    view.refs++;
    slot.canaryInFlight++;
    void run(view)
      .then(
        (res) => {
          slot.canary = slot.canary?.shadow === id ? slot.canary : newCanaryTally(id);
          const compared = compareWithShadow(slot.canary, live, res);
          if (compared) recordCanary(name, compared);
        },
        (e: unknown) => {
          if (slot.canary?.shadow === id) slot.canary.failed++;
          recordCanary(name, 'failed');
          this.opts.log?.warn({ collection: name, shadow: id, err: e }, 'canary search on the shadow generation failed');
        },
      )
      .finally(() => {
        slot.canaryInFlight--;
        view.refs--;
        if (view.retired && view.refs === 0) void this.closeView(view);
      });
  }

  /** What the canary has compared of the collection's current shadow (null: nothing yet). */
  canaryStats(name: string): CanaryStats | null {
    const c = this.slots.get(name)?.canary;
    return c ? canaryStatsOf(c) : null;
  }

  private loadShadow(slot: Slot, id: number): void {
    if (slot.shadowLoading) return;
    slot.shadowLoading = (async () => {
      const collection = await Collection.open(this.opts.dataDir, slot.name, 'read', id);
      try {
        const embedder = await this.checkedEmbedder(slot.name, collection);
        const generation = collection.pinHead();
        const session = new SearchSession(LocalReader.wrap(collection), embedder, this.reranker);
        await session.warm(['vector', 'bm25']);
        this.dropShadow(slot);
        slot.shadow = { id, view: { collection, session, embedder, dir: collection.paths.dir, generation, refs: 0, retired: false } };
      } catch (e) {
        await collection.close();
        throw e;
      }
    })()
      .catch((e: unknown) => this.opts.log?.warn({ collection: slot.name, shadow: id, err: e }, 'cannot open the shadow generation for the canary'))
      .finally(() => (slot.shadowLoading = null));
  }

  private dropShadow(slot: Slot): void {
    if (!slot.shadow) return;
    this.retire(slot.shadow.view);
    slot.shadow = null;
  }

  /** Waits for writes in progress, then closes every view and model. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) {
      await slot.loading?.catch(() => undefined);
      await slot.writes.catch(() => undefined);
      await slot.refreshing?.catch(() => undefined);
      await slot.shadowLoading?.catch(() => undefined);
      this.dropShadow(slot);
      if (slot.view) this.retire(slot.view);
      slot.view = null;
    }
    this.slots.clear();
    for (const e of this.embedders.values()) {
      const embedder = await e.catch(() => null);
      // embedders handed in by the caller are the caller's to close
      if (embedder && !this.opts.loadEmbedder) await embedder.close();
    }
    this.embedders.clear();
    if (!this.opts.loadReranker) await this.reranker.close();
  }

  /** Bytes the warm view's indexes take in memory (the estimate quarry_index_memory_bytes reports); undefined while not serving. */
  memoryBytes(name: string): number | undefined {
    const slot = this.slots.get(name);
    const view = slot?.view;
    if (!slot || !view || view.retired || slot.state !== 'ready') return undefined;
    const c = view.collection;
    const ann = readAnnState(c);
    return ann && !ann.fallback ? ann.memoryBytes : c.db.counts(view.generation).chunks * c.manifest.model.dims * 4;
  }
}

