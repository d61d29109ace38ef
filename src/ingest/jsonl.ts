import { stat } from 'node:fs/promises';
import { readByteLines } from './byte-lines.js';
import { sha256Hex } from './file-bytes.js';
import { MAX_METADATA_DEPTH, nestedDeeperThan } from './metadata.js';
import { normalizeText } from './normalize.js';
import type { ResolvedLoadOptions } from './options.js';
import { formatBytes, problem } from './problems.js';
import { splitSections } from './sections.js';
import type { LoadItem, LoadedDocument } from './types.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

type ParsedRecord =
  | { ok: true; id: string; title?: string; text: string; metadata: Record<string, unknown> }
  | { ok: false; reason: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRecord(json: string): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `is not valid JSON (${(err as Error).message})` };
  }
  if (!isPlainObject(value)) return { ok: false, reason: 'is not a JSON object' };
  const rawId = value._id;
  let id: string;
  if (typeof rawId === 'string' && rawId.trim() !== '') id = rawId;
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else return { ok: false, reason: 'has no "_id" (a non-empty string)' };
  if (typeof value.text !== 'string') return { ok: false, reason: `record "${id}" has no "text" string` };
  if (value.title !== undefined && value.title !== null && typeof value.title !== 'string') {
    return { ok: false, reason: `record "${id}" has a "title" that is not a string` };
  }
  if (value.metadata !== undefined && value.metadata !== null && !isPlainObject(value.metadata)) {
    return { ok: false, reason: `record "${id}" has "metadata" that is not a JSON object` };
  }
  if (isPlainObject(value.metadata) && nestedDeeperThan(value.metadata, MAX_METADATA_DEPTH)) {
    return { ok: false, reason: `record "${id}" has "metadata" nested more than ${MAX_METADATA_DEPTH} levels deep` };
  }
  const title = typeof value.title === 'string' ? normalizeText(value.title).replace(/\s+/g, ' ').trim() : '';
  return {
    ok: true,
    id,
    ...(title !== '' && { title }),
    text: value.text,
    metadata: isPlainObject(value.metadata) ? value.metadata : {},
  };
}

/**
 * A .jsonl file in BEIR corpus form: one `{"_id", "title", "text", "metadata"?}` object per
 * line, each becoming a document with docId = `_id`, locator `line N`, the title as title,
 * `text` as its text (the title is NOT prepended; downstream decides) and the record's
 * `metadata` object as metadata. contentHash/byteLength are those of the line's raw bytes.
 * Streamed line by line. Blank lines are skipped. A bad line (invalid JSON or UTF-8, no
 * `_id` or `text`, a repeated `_id`) is a PARSE_ERROR problem with its line, and the file
 * goes on. A record whose text and title are both blank is EMPTY; one with a title but blank
 * text is kept (BEIR corpora have such records and their qrels may point at them), with no
 * sections. A line over `maxBytes` is TOO_LARGE.
 */
export async function* loadJsonlFile(path: string, opts: ResolvedLoadOptions): AsyncGenerator<LoadItem> {
  const size = (await stat(path)).size;
  if (size === 0) {
    yield problem(path, 'EMPTY', 'is empty (0 bytes); nothing to index');
    return;
  }
  const firstLineOf = new Map<string, number>();
  let records = 0;
  let bad = 0;
  for await (const line of readByteLines(path, opts.maxBytes)) {
    const locator = `line ${line.lineNo}`;
    if (line.tooLong) {
      bad++;
      yield problem(
        path,
        'TOO_LARGE',
        `is ${formatBytes(line.byteLength)}, over the ${formatBytes(opts.maxBytes)} limit for one record; the record was skipped (raise maxBytes to load it)`,
        locator,
      );
      continue;
    }
    let json: string;
    try {
      json = UTF8.decode(line.bytes);
    } catch {
      bad++;
      yield problem(path, 'PARSE_ERROR', 'is not valid UTF-8; the record was skipped, save the file as UTF-8', locator);
      continue;
    }
    if (line.lineNo === 1 && json.startsWith('\uFEFF')) json = json.slice(1); // BOM
    if (json.trim() === '') continue;
    const rec = parseRecord(json);
    if (!rec.ok) {
      bad++;
      yield problem(path, 'PARSE_ERROR', `${rec.reason}; the record was skipped`, locator);
      continue;
    }
    const seenAt = firstLineOf.get(rec.id);
    if (seenAt !== undefined) {
      bad++;
      yield problem(
        path,
        'PARSE_ERROR',
        `repeats _id "${rec.id}" of line ${seenAt}; the later record was skipped, make the ids unique`,
        locator,
      );
      continue;
    }
    firstLineOf.set(rec.id, line.lineNo);
    const text = normalizeText(rec.text);
    if (text === '' && rec.title === undefined) {
      bad++;
      yield problem(path, 'EMPTY', `record "${rec.id}" has no text and no title; nothing to index`, locator);
      continue;
    }
    records++;
    const doc: LoadedDocument = {
      docId: rec.id,
      source: path,
      locator,
      format: 'jsonl',
      ...(rec.title !== undefined && { title: rec.title }),
      metadata: rec.metadata,
      contentHash: sha256Hex(line.bytes),
      byteLength: line.bytes.length,
      sections: text === '' ? [] : splitSections(text, opts.sectionChars),
    };
    yield { kind: 'document', doc };
  }
  if (records === 0 && bad === 0) yield problem(path, 'EMPTY', 'has no records (only blank lines); nothing to index');
}
