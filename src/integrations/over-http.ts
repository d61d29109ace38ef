/**
 * A collection served by `quarry serve`, through the typed client (quarry/client) and a key.
 * With `model`, the collection's model is checked once against it (GET /collections/{name})
 * and every answer after that must name the same model: a collection that was switched to
 * another model (a promotion) is refused with ModelMismatchError, not searched silently.
 */
import { QuarryClient, type QuarryClientOptions } from '../client/client.js';
import { describeIdentity, type ModelIdentity } from '../embed/identity.js';
import { InvalidInputError, ModelMismatchError } from '../errors.js';
import { problemsOf, type DocumentInput, type QuarrySource, type SearchOptions, type SearchResponse } from './source.js';

export interface OverHttpOptions {
  /** A client, or what to make one from (baseUrl, key, timeoutMs, retries). */
  client: QuarryClient | QuarryClientOptions;
  collection: string;
  /** The model the application expects ("id" or "id:variant"); anything else is refused. */
  model?: string;
}

export class HttpSource implements QuarrySource {
  readonly collection: string;
  readonly client: QuarryClient;
  private expected: Promise<string | undefined> | null = null;

  constructor(private readonly opts: OverHttpOptions) {
    this.collection = opts.collection;
    this.client = opts.client instanceof QuarryClient ? opts.client : new QuarryClient(opts.client);
  }

  /** The description every answer must carry (undefined when no model was named). */
  private expectedModel(): Promise<string | undefined> {
    const want = this.opts.model;
    if (want === undefined) return Promise.resolve(undefined);
    this.expected ??= (async () => {
      const info = await this.client.collection(this.collection);
      const stored = info.model as ModelIdentity;
      const colon = want.lastIndexOf(':');
      const variant = colon >= 0 && /^(fp32|int8)$/i.test(want.slice(colon + 1)) ? want.slice(colon + 1).toLowerCase() : undefined;
      const id = variant ? want.slice(0, colon) : want;
      const diffs: string[] = [];
      if (id.toLowerCase() !== stored.id.toLowerCase()) diffs.push(`id: ${stored.id} -> ${id}`);
      if (variant !== undefined && variant !== stored.variant) diffs.push(`variant: ${stored.variant} -> ${variant}`);
      if (diffs.length > 0) throw new ModelMismatchError(this.collection, describeIdentity(stored), want, diffs);
      return describeIdentity(stored);
    })().catch((e: unknown) => {
      this.expected = null;
      throw e;
    });
    return this.expected;
  }

  async search(query: string, options: SearchOptions): Promise<SearchResponse> {
    const want = await this.expectedModel();
    const res = await this.client.search(this.collection, query, options);
    if (want !== undefined && res.model !== want) {
      throw new ModelMismatchError(this.collection, res.model, want, ['the collection now answers with another model than the one checked when this source was opened']);
    }
    return res;
  }

  async upsert(documents: DocumentInput[]): Promise<void> {
    await this.expectedModel();
    const problems = problemsOf(await this.client.upsertDocuments(this.collection, documents));
    if (problems) throw new InvalidInputError(`some documents were not added to collection "${this.collection}": ${problems}`, { collection: this.collection });
  }

  async delete(ids: string[]): Promise<void> {
    await this.client.deleteDocuments(this.collection, ids);
  }

  async embed(): Promise<number[][]> {
    throw new InvalidInputError(
      "quarry's HTTP API does not hand out embeddings: search with text (similaritySearch, the retriever), and quarry embeds it with the collection's own model",
    );
  }

  async close(): Promise<void> {}
}
