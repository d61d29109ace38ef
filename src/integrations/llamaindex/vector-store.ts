import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { MetadataMode, type BaseNode } from '@llamaindex/core/schema';
import { BaseVectorStore, VectorStoreQueryMode, type VectorStoreQuery, type VectorStoreQueryResult } from '@llamaindex/core/vector-store';
import { InvalidInputError } from '../../errors.js';
import type { QuarrySource, SearchOptions } from '../source.js';
import { toQuarryFilter } from './filters.js';
import { toNodeWithScore } from './nodes.js';

/** The collection's own model as a LlamaIndex embedding (in-process sources; over HTTP it throws, saying why). */
export class QuarryEmbedding extends BaseEmbedding {
  constructor(private readonly source: QuarrySource) {
    super();
  }
  async getTextEmbedding(text: string): Promise<number[]> {
    return (await this.source.embed([text]))[0];
  }
}

export interface QuarryVectorStoreOptions {
  /** Search options every query uses: mode (say it: vector, bm25 or hybrid; LlamaIndex's DEFAULT mode means this one), minScore, rerank... */
  search?: Omit<SearchOptions, 'k' | 'filter'>;
}

/**
 * LlamaIndex.TS's BaseVectorStore over a quarry collection. quarry chunks and embeds text
 * itself with the collection's model, so `add` stores text (the nodes of one source document,
 * as LlamaIndex's splitters make them, are joined by spaces into that one document, under its id),
 * `query` searches by `queryStr` (a bare query embedding is refused: quarry could not check
 * its model), and `delete(refDocId)` removes that document.
 */
export class QuarryVectorStore extends BaseVectorStore<QuarrySource> {
  storesText = true;
  override isEmbeddingQuery = false;
  private readonly source: QuarrySource;
  private readonly searchOptions: Omit<SearchOptions, 'k' | 'filter'>;

  constructor(source: QuarrySource, opts: QuarryVectorStoreOptions = {}) {
    super({ embedModel: new QuarryEmbedding(source) });
    this.source = source;
    this.searchOptions = opts.search ?? {};
  }

  client(): QuarrySource {
    return this.source;
  }

  /** Adds or replaces documents (one new version); answers the ids of the nodes given. */
  async add(nodes: BaseNode[]): Promise<string[]> {
    type Doc = { texts: string[]; metadata: Record<string, unknown> };
    const docs = new Map<string, Doc>();
    for (const node of nodes) {
      const id = node.sourceNode?.nodeId ?? node.id_;
      const doc: Doc = docs.get(id) ?? { texts: [], metadata: { ...node.metadata } };
      doc.texts.push(node.getContent(MetadataMode.NONE));
      docs.set(id, doc);
    }
    await this.source.upsert([...docs].map(([id, d]) => ({ id, text: d.texts.join(' '), metadata: d.metadata })));
    return nodes.map((n) => n.id_);
  }

  async delete(refDocId: string): Promise<void> {
    await this.source.delete([refDocId]);
  }

  async query(query: VectorStoreQuery): Promise<VectorStoreQueryResult> {
    if (!query.queryStr) {
      throw new InvalidInputError("quarry searches by text (queryStr), embedding it with the collection's own model; a query embedding made elsewhere cannot be checked against that model", { field: 'queryStr' });
    }
    if (query.docIds?.length) throw new InvalidInputError('quarry cannot restrict a search to docIds; filter on metadata instead', { field: 'docIds' });
    const mode =
      query.mode === VectorStoreQueryMode.DEFAULT ? this.searchOptions.mode
      : query.mode === VectorStoreQueryMode.HYBRID ? 'hybrid'
      : query.mode === VectorStoreQueryMode.SPARSE ? 'bm25'
      : undefined;
    if (mode === undefined && query.mode !== VectorStoreQueryMode.DEFAULT) {
      throw new InvalidInputError(`quarry has no "${query.mode}" query mode; use default, hybrid or sparse`, { field: 'mode' });
    }
    const filter = query.filters ? toQuarryFilter(query.filters) : undefined;
    const res = await this.source.search(query.queryStr, { ...this.searchOptions, ...(mode ? { mode } : {}), k: query.similarityTopK, ...(filter ? { filter } : {}) });
    const hits = res.results.map((r) => toNodeWithScore(r, res.model));
    return { nodes: hits.map((h) => h.node), similarities: hits.map((h) => h.score ?? 0), ids: hits.map((h) => h.node.id_) };
  }
}
