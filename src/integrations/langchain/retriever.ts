import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { QuarrySource, SearchOptions } from '../source.js';
import { toDocument } from './documents.js';

export interface QuarryRetrieverInput extends BaseRetrieverInput {
  /** The collection: `inProcess({...})` or `overHttp({...})`. */
  source: QuarrySource;
  /** Results per query (default 4, LangChain's usual). */
  k?: number;
  /** Search options: mode (say it: vector, bm25 or hybrid), filter, minScore, rerank, weights... */
  search?: Omit<SearchOptions, 'k'>;
}

/** LangChain's BaseRetriever over a quarry collection: `invoke(query)` answers Documents, best first. */
export class QuarryRetriever extends BaseRetriever {
  static override lc_name(): string {
    return 'QuarryRetriever';
  }
  override lc_namespace = ['quarry', 'retrievers'];
  readonly source: QuarrySource;
  readonly k: number;
  readonly searchOptions: Omit<SearchOptions, 'k'>;

  constructor(fields: QuarryRetrieverInput) {
    super(fields);
    this.source = fields.source;
    this.k = fields.k ?? 4;
    this.searchOptions = fields.search ?? {};
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    const res = await this.source.search(query, { ...this.searchOptions, k: this.k });
    return res.results.map((r) => toDocument(r, res.model));
  }
}
