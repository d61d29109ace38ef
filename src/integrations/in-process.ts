/**
 * A collection opened in this process through the library. The engine (ONNX Runtime, SQLite,
 * the indexes) is imported on first use, so `quarry/langchain` over HTTP never loads it.
 * The model is loaded once and checked against the collection's stored identity on every
 * search and write by the library itself: another model is refused (ModelMismatchError).
 */
import { InvalidInputError } from '../errors.js';
import type { Embedder } from '../embed/embedder.js';
import { problemsOf, type DocumentInput, type QuarrySource, type SearchOptions, type SearchResponse } from './source.js';

export interface InProcessOptions {
  /** Data folder (default ./.quarry). */
  dataDir?: string;
  /** Collection (default `default`). */
  collection?: string;
  /** The model the application expects, e.g. sentence-transformers/all-MiniLM-L6-v2; anything but the collection's own is refused. */
  model?: string;
  /** Folder of provisioned models (default $QUARRY_MODELS or ~/.cache/quarry/models). */
  modelsDir?: string;
  /** A loaded embedder to use (its identity is still checked against the collection's). */
  embedder?: Embedder;
}

export class InProcessSource implements QuarrySource {
  readonly collection: string;
  private loading: Promise<Embedder> | null = null;

  constructor(private readonly opts: InProcessOptions = {}) {
    this.collection = opts.collection ?? 'default';
  }

  private where(): { dataDir?: string; collection: string; modelsDir?: string } {
    return { dataDir: this.opts.dataDir, collection: this.collection, modelsDir: this.opts.modelsDir };
  }

  /** The embedder, loaded once: the requested model, else the collection's own (else the default model, for a new collection). */
  private embedder(): Promise<Embedder> {
    if (this.opts.embedder) return Promise.resolve(this.opts.embedder);
    this.loading ??= (async () => {
      const [{ openStore }, { refOf, loadEmbedder }, { checkRequestedModel }, { DEFAULT_MODEL, DEFAULT_DATA_DIR }] = await Promise.all([
        import('../store/open-store.js'),
        import('../api/load-model.js'),
        import('../embed/trust.js'),
        import('../api/options.js'),
      ]);
      const store = openStore(this.opts.dataDir ?? DEFAULT_DATA_DIR);
      const stored = (await store.manifest(this.collection).catch(() => null))?.model;
      // refuse before loading anything when the model asked for is not the collection's
      if (stored && this.opts.model !== undefined) checkRequestedModel(this.collection, stored, this.opts.model);
      return loadEmbedder(this.opts.model ?? (stored ? refOf(stored) : DEFAULT_MODEL), this.opts.modelsDir);
    })().catch((e: unknown) => {
      this.loading = null;
      throw e;
    });
    return this.loading;
  }

  async search(query: string, options: SearchOptions): Promise<SearchResponse> {
    const { search } = await import('../api/search.js');
    const embedder = options.mode === 'bm25' && !this.opts.model ? undefined : await this.embedder();
    // the library's answer is the HTTP API's search object: this assignment is checked by the compiler
    const res: SearchResponse = await search(query, { ...options, ...this.where(), embedder, model: this.opts.model });
    return res;
  }

  async upsert(documents: DocumentInput[]): Promise<void> {
    const { upsertDocuments } = await import('../api/upsert-documents.js');
    const report = await upsertDocuments(documents, { ...this.where(), embedder: await this.embedder() });
    const problems = problemsOf(report);
    if (problems) throw new InvalidInputError(`some documents were not added to collection "${this.collection}": ${problems}`, { collection: this.collection });
  }

  async delete(ids: string[]): Promise<void> {
    const { deleteDocuments } = await import('../api/delete-documents.js');
    await deleteDocuments(ids, this.where());
  }

  async embed(texts: string[]): Promise<number[][]> {
    const embedder = await this.embedder();
    return (await embedder.embed(texts)).map((v) => Array.from(v));
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = null;
    if (loading) await (await loading.catch(() => null))?.close();
  }
}
