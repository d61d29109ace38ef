import type { Callbacks } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { QuarrySource, SearchOptions } from '../source.js';
import { toDocument } from './documents.js';

/** quarry's metadata filter (src/retrieve/filter/tree.ts): equality, $in, $nin, $ne, ranges, $and/$or, dotted fields. */
export type QuarryFilter = Record<string, unknown>;

const VECTORS_REFUSED =
  "quarry embeds text itself, with the collection's own model, so that a vector from another model can never be compared with its vectors; pass text (addDocuments, similaritySearch), not vectors";

/** The collection's own model as LangChain Embeddings (in-process sources; over HTTP it throws, saying why). */
export class QuarryEmbeddings extends Embeddings {
  constructor(private readonly source: QuarrySource) {
    super({});
  }
  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.source.embed(texts);
  }
  async embedQuery(text: string): Promise<number[]> {
    return (await this.source.embed([text]))[0];
  }
}

export interface QuarryVectorStoreOptions {
  /** Search options every search uses: mode (say it: vector, bm25 or hybrid), minScore, rerank... */
  search?: Omit<SearchOptions, 'k' | 'filter'>;
}

/**
 * LangChain's VectorStore over a quarry collection. Documents are added as text (quarry chunks
 * and embeds them with the collection's model) under their `id` or the ids given, searched
 * with scores (the ranking score of the mode), filtered with quarry's filter language, and
 * deleted by id. Vectors computed elsewhere are refused: quarry could not check their model.
 */
export class QuarryVectorStore extends VectorStore {
  declare FilterType: QuarryFilter;
  readonly source: QuarrySource;
  private readonly searchOptions: Omit<SearchOptions, 'k' | 'filter'>;

  constructor(source: QuarrySource, opts: QuarryVectorStoreOptions = {}) {
    super(new QuarryEmbeddings(source), {});
    this.source = source;
    this.searchOptions = opts.search ?? {};
  }

  _vectorstoreType(): string {
    return 'quarry';
  }

  /** Adds or replaces documents (one new version); ids from `options.ids`, else each document's `id`, else new UUIDs. */
  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    if (options?.ids && options.ids.length !== documents.length) {
      throw new InvalidInputError(`${options.ids.length} ids were given for ${documents.length} documents`, { field: 'ids' });
    }
    const ids = documents.map((d, i) => options?.ids?.[i] ?? d.id ?? randomUUID());
    await this.source.upsert(documents.map((d, i) => ({ id: ids[i], text: d.pageContent, metadata: withoutQuarry(d.metadata) })));
    return ids;
  }

  async addVectors(): Promise<string[]> {
    throw new InvalidInputError(VECTORS_REFUSED);
  }

  async similaritySearchVectorWithScore(): Promise<[DocumentInterface, number][]> {
    throw new InvalidInputError(VECTORS_REFUSED);
  }

  override async similaritySearchWithScore(query: string, k = 4, filter?: QuarryFilter, _callbacks?: Callbacks): Promise<[DocumentInterface, number][]> {
    const res = await this.source.search(query, { ...this.searchOptions, k, ...(filter !== undefined ? { filter } : {}) });
    return res.results.map((r) => [toDocument(r, res.model), r.score]);
  }

  override async similaritySearch(query: string, k = 4, filter?: QuarryFilter, callbacks?: Callbacks): Promise<DocumentInterface[]> {
    return (await this.similaritySearchWithScore(query, k, filter, callbacks)).map(([d]) => d);
  }

  /** Deletes documents by id (one new version). */
  override async delete(params?: { ids?: string[] }): Promise<void> {
    if (!params?.ids || params.ids.length === 0) throw new InvalidInputError('delete takes { ids: [...] }, the ids of the documents to remove', { field: 'ids' });
    await this.source.delete(params.ids);
  }

  static override async fromDocuments(docs: DocumentInterface[], _embeddings: unknown, config: { source: QuarrySource } & QuarryVectorStoreOptions): Promise<QuarryVectorStore> {
    const store = new QuarryVectorStore(config.source, config);
    await store.addDocuments(docs);
    return store;
  }
}

/** A document read back from quarry carries `metadata.quarry` (toDocument's); that is not stored again. */
function withoutQuarry(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  const { quarry, ...rest } = metadata ?? {};
  const ours = quarry !== null && typeof quarry === 'object' && 'chunkId' in quarry && 'docId' in quarry;
  return ours || quarry === undefined ? rest : { ...rest, quarry };
}
