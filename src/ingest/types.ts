/** What loaders produce: normalized text in sections, plus metadata and provenance. */

/** The longest document id (UTF-16 units): upsertDocuments refuses longer ones, and the HTTP schemas bound ids by it. */
export const MAX_DOCUMENT_ID_CHARS = 1024;

export type SourceFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'jsonl';
/** A document's format: a file format, or `record` for one handed over in memory (the HTTP API, upsertDocuments). */
export type DocumentFormat = SourceFormat | 'record';

/**
 * A piece of a document's normalized text. Small documents are one section; large ones are
 * streamed as several, split at paragraph boundaries, so memory stays bounded.
 * `offset` is the position of `text[0]` in the document's whole normalized text (UTF-16 units).
 */
export interface TextSection {
  text: string;
  offset: number;
  /**
   * About where in the source file this section's text ends, in bytes (streamed files only):
   * for progress on a large file, never used for content.
   */
  sourceEnd?: number;
}

export interface LoadedDocument {
  /** Stable id: the file's absolute path, or the record's `_id` for JSONL. */
  docId: string;
  /** Absolute path of the file it came from. */
  source: string;
  /** Where inside the source, when a file holds many documents (JSONL: "line 12"). */
  locator?: string;
  format: DocumentFormat;
  title?: string;
  metadata: Record<string, unknown>;
  /** sha256 (hex) of the source bytes of this document: unchanged content, same hash. */
  contentHash: string;
  /** Size of the source bytes of this document. */
  byteLength: number;
  /** The normalized text, in order. May be iterated once. */
  sections: AsyncIterable<TextSection> | Iterable<TextSection>;
}

/** A file or record that could not be loaded; ingest reports it and goes on. */
export interface LoadProblem {
  path: string;
  locator?: string;
  code: 'UNREADABLE' | 'EMPTY' | 'BINARY' | 'UNSUPPORTED' | 'PARSE_ERROR' | 'TOO_LARGE';
  reason: string;
}

export type LoadItem = { kind: 'document'; doc: LoadedDocument } | { kind: 'problem'; problem: LoadProblem };
