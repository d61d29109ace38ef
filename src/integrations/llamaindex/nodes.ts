import { NodeRelationship, TextNode, type NodeWithScore } from '@llamaindex/core/schema';
import { quarryFacts, type SearchResponse } from '../source.js';

type Result = SearchResponse['results'][number];

/**
 * The one mapping from a quarry result to LlamaIndex's NodeWithScore: a TextNode holding the
 * chunk's text (id_ the chunk id, its character span in the source, the document as its
 * SOURCE so `node.sourceNode.nodeId` is the document id), the document's own metadata with
 * quarry's facts under `metadata.quarry`, and the ranking score.
 */
export function toNodeWithScore(r: Result, model: string): NodeWithScore {
  const node = new TextNode({
    id_: r.chunkId,
    text: r.text,
    startCharIdx: r.span.start,
    endCharIdx: r.span.end,
    relationships: { [NodeRelationship.SOURCE]: { nodeId: r.docId, metadata: {} } },
    metadata: {
      ...r.metadata,
      quarry: quarryFacts(r, model),
    },
    // quarry's facts are for the application, not for the LLM's prompt or an embedding
    excludedLlmMetadataKeys: ['quarry'],
    excludedEmbedMetadataKeys: ['quarry'],
  });
  return { node, score: r.score };
}
