import { NodeRelationship, TextNode, type NodeWithScore } from '@llamaindex/core/schema';
import type { SearchResponse } from '../source.js';

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
      quarry: {
        docId: r.docId,
        chunkId: r.chunkId,
        source: r.source,
        ...(r.title !== undefined ? { title: r.title } : {}),
        rank: r.rank,
        score: r.score,
        scores: r.scores,
        model,
        ...(r.passages ? { passages: r.passages.map((x) => ({ chunkId: x.chunkId, score: x.score, text: x.text, span: x.span })) } : {}),
      },
    },
    // quarry's facts are for the application, not for the LLM's prompt or an embedding
    excludedLlmMetadataKeys: ['quarry'],
    excludedEmbedMetadataKeys: ['quarry'],
  });
  return { node, score: r.score };
}
