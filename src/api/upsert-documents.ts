import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { normalizeText } from '../ingest/normalize.js';
import { splitSections } from '../ingest/sections.js';
import { MAX_METADATA_DEPTH, nestedDeeperThan } from '../ingest/metadata.js';
import { DEFAULT_SECTION_CHARS } from '../ingest/options.js';
import { MAX_DOCUMENT_ID_CHARS, type LoadItem } from '../ingest/types.js';
import { runIngest, type IngestOptions, type IndexReport } from './ingest.js';

/** A document handed over in memory (the HTTP API's batch upsert). */
export interface DocumentInput {
  /** Stable id: a document with the same id replaces the earlier one, as a new version. */
  id: string;
  text: string;
  /** Embedded with every chunk and searched by BM25, like a BEIR record's title. */
  title?: string;
  /** A JSON object; metadata filters match on it. */
  metadata?: Record<string, unknown>;
}

export type UpsertOptions = IngestOptions;

/**
 * Adds or replaces documents by id, through the same pipeline as indexPaths (chunking,
 * embedding cache, one new version, vector and BM25 indexes kept in step, crash safety).
 * A document whose id, text, title and metadata are unchanged is skipped. A new collection
 * is created with `opts.model` (default all-MiniLM-L6-v2). A document with no text and no
 * title is reported in `problems` and skipped, like an empty file.
 */
export async function upsertDocuments(docs: DocumentInput[], opts: UpsertOptions = {}): Promise<IndexReport> {
  const started = performance.now();
  if (!Array.isArray(docs) || docs.length === 0) throw new InvalidInputError('no documents were given', { field: 'documents' });
  const seen = new Set<string>();
  docs.forEach((d, i) => {
    const field = `documents/${i}`;
    if (d === null || typeof d !== 'object') throw new InvalidInputError(`${field} is not an object`, { field });
    if (typeof d.id !== 'string' || d.id.length === 0 || d.id.length > MAX_DOCUMENT_ID_CHARS) {
      throw new InvalidInputError(`${field}/id must be a string of 1 to ${MAX_DOCUMENT_ID_CHARS} characters`, { field: `${field}/id` });
    }
    if (seen.has(d.id)) throw new InvalidInputError(`document id "${d.id}" appears twice in one batch`, { field: `${field}/id` });
    seen.add(d.id);
    if (typeof d.text !== 'string') throw new InvalidInputError(`${field}/text must be a string`, { field: `${field}/text` });
    if (d.title !== undefined && typeof d.title !== 'string') throw new InvalidInputError(`${field}/title must be a string`, { field: `${field}/title` });
    if (d.metadata !== undefined && (d.metadata === null || typeof d.metadata !== 'object' || Array.isArray(d.metadata))) {
      throw new InvalidInputError(`${field}/metadata must be a JSON object`, { field: `${field}/metadata` });
    }
    if (d.metadata !== undefined && nestedDeeperThan(d.metadata, MAX_METADATA_DEPTH)) {
      throw new InvalidInputError(`${field}/metadata is nested more than ${MAX_METADATA_DEPTH} levels deep`, { field: `${field}/metadata` });
    }
  });
  return runIngest(
    {
      items: () => documentItems(docs),
      bytesTotal: async () => docs.reduce((s, d) => s + Buffer.byteLength(d.text) + Buffer.byteLength(d.title ?? ''), 0),
      note: `upserted ${docs.length} document(s)`,
    },
    opts,
    started,
  );
}

async function* documentItems(docs: DocumentInput[]): AsyncGenerator<LoadItem> {
  for (const d of docs) {
    const text = normalizeText(d.text);
    const title = d.title === undefined ? '' : normalizeText(d.title).replace(/\s+/g, ' ').trim();
    if (text === '' && title === '') {
      yield { kind: 'problem', problem: { path: d.id, code: 'EMPTY', reason: `document "${d.id}" has no text and no title; nothing to index` } };
      continue;
    }
    const metadata = d.metadata ?? {};
    // What makes a version: a change to any of these is a new version of the document.
    const canonical = JSON.stringify([text, title, metadata]);
    yield {
      kind: 'document',
      doc: {
        docId: d.id,
        source: d.id,
        format: 'record',
        ...(title !== '' && { title }),
        metadata,
        contentHash: createHash('sha256').update(canonical).digest('hex'),
        byteLength: Buffer.byteLength(d.text) + Buffer.byteLength(d.title ?? ''),
        sections: text === '' ? [] : splitSections(text, DEFAULT_SECTION_CHARS),
      },
    };
  }
}
