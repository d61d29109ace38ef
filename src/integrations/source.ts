/**
 * What the framework adapters (quarry/langchain, quarry/llamaindex) read and write through:
 * a collection, either opened in this process through the library or served by `quarry
 * serve` through the typed client. Both answer with the HTTP API's search object, so each
 * adapter has one mapping from a quarry result to its framework's document.
 */
import type { SearchOptions } from '../client/client.js';
import type { DocumentInput, SearchResponse } from '../client/types.js';
import type { Embedder } from '../embed/embedder.js';

export type { DocumentInput, SearchOptions, SearchResponse };

export interface QuarrySource {
  /** The collection searched and written. */
  readonly collection: string;
  /** Searches the collection; refuses (ModelMismatchError) when it answers with another model than expected. */
  search(query: string, options: SearchOptions): Promise<SearchResponse>;
  /** Adds or replaces documents by id, as one new version; a document quarry cannot take is an error, never skipped silently. */
  upsert(documents: DocumentInput[]): Promise<void>;
  /** Removes documents by id, as one new version. */
  delete(ids: string[]): Promise<void>;
  /** Embeds with the collection's own model (in-process only; over HTTP it throws, saying so). */
  embed(texts: string[]): Promise<number[][]>;
  /** Releases what the source loaded (a model). */
  close(): Promise<void>;
}

/**
 * quarry's facts about one hit, as both adapters put them under `metadata.quarry` (ids, source,
 * rank and scores, the model, and a document result's other matching passages).
 */
export function quarryFacts(r: SearchResponse['results'][number], model: string): Record<string, unknown> {
  return {
    docId: r.docId,
    chunkId: r.chunkId,
    source: r.source,
    ...(r.title !== undefined ? { title: r.title } : {}),
    rank: r.rank,
    score: r.score,
    scores: r.scores,
    model,
    ...(r.passages ? { passages: r.passages.map((x) => ({ chunkId: x.chunkId, score: x.score, text: x.text, span: x.span })) } : {}),
  };
}

/** The documents of an ingest report that were not taken, as an error a caller can act on. */
export function problemsOf(report: { problems?: unknown }): string | undefined {
  const problems = Array.isArray(report.problems) ? (report.problems as Array<{ path?: unknown; reason?: unknown }>) : [];
  if (problems.length === 0) return undefined;
  return problems.map((p) => `${String(p.path)}: ${String(p.reason)}`).join('; ');
}

export type { Embedder };
