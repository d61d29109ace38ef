import type { QueryBundle } from '@llamaindex/core/query-engine';
import { BaseRetriever } from '@llamaindex/core/retriever';
import type { NodeWithScore } from '@llamaindex/core/schema';
import { extractText } from '@llamaindex/core/utils';
import type { MetadataFilters } from '@llamaindex/core/vector-store';
import type { QuarrySource, SearchOptions } from '../source.js';
import { toQuarryFilter } from './filters.js';
import { toNodeWithScore } from './nodes.js';

export interface QuarryRetrieverOptions {
  /** The collection: `inProcess({...})` or `overHttp({...})`. */
  source: QuarrySource;
  /** Nodes per query (default 2, LlamaIndex's similarityTopK default). */
  similarityTopK?: number;
  /** LlamaIndex metadata filters, mapped to quarry's filter language. */
  filters?: MetadataFilters;
  /** Search options: mode (say it: vector, bm25 or hybrid), minScore, rerank, or a quarry `filter` directly. */
  search?: Omit<SearchOptions, 'k'>;
}

/** LlamaIndex.TS's BaseRetriever over a quarry collection: `retrieve(query)` answers NodeWithScore, best first. */
export class QuarryRetriever extends BaseRetriever {
  readonly source: QuarrySource;
  readonly similarityTopK: number;
  private readonly searchOptions: Omit<SearchOptions, 'k'>;

  constructor(opts: QuarryRetrieverOptions) {
    super();
    this.source = opts.source;
    this.similarityTopK = opts.similarityTopK ?? 2;
    const filter = opts.filters ? toQuarryFilter(opts.filters) : undefined;
    this.searchOptions = { ...opts.search, ...(filter ? { filter: opts.search?.filter ? { $and: [opts.search.filter, filter] } : filter } : {}) };
  }

  async _retrieve(params: QueryBundle): Promise<NodeWithScore[]> {
    const res = await this.source.search(extractText(params.query), { ...this.searchOptions, k: this.similarityTopK });
    return res.results.map((r) => toNodeWithScore(r, res.model));
  }
}
