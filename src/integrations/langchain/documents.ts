import { Document } from '@langchain/core/documents';
import { quarryFacts, type SearchResponse } from '../source.js';

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
      // the chunk's span too: a LangChain Document has no field of its own for it
      quarry: { ...quarryFacts(r, model), span: r.span },
    },
  });
}
