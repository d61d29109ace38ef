import { Document } from '@langchain/core/documents';
import type { SearchResponse } from '../source.js';

type Result = SearchResponse['results'][number];

/**
 * The one mapping from a quarry result to a LangChain Document: the text is `pageContent`,
 * the document's own metadata stays as it was stored, and quarry's facts about the hit sit
 * under `metadata.quarry` (with a document result, its other matching `passages` too), so they
 * never overwrite a field of the document's own. `id` is
 * the document id, the one `delete({ ids })` takes.
 */
export function toDocument(r: Result, model: string): Document {
  return new Document({
    id: r.docId,
    pageContent: r.text,
    metadata: {
      ...r.metadata,
      quarry: {
        docId: r.docId,
        chunkId: r.chunkId,
        source: r.source,
        ...(r.title !== undefined ? { title: r.title } : {}),
        rank: r.rank,
        score: r.score,
        scores: r.scores,
        span: r.span,
        model,
        ...(r.passages ? { passages: r.passages.map((x) => ({ chunkId: x.chunkId, score: x.score, text: x.text, span: x.span })) } : {}),
      },
    },
  });
}
