import { readFile, stat } from 'node:fs/promises';
import { BINARY_SAMPLE_BYTES, binaryReason } from './detect-binary.js';
import { digestFile, readHead, sha256Hex } from './file-bytes.js';
import { normalizeText } from './normalize.js';
import type { ResolvedLoadOptions } from './options.js';
import { problem } from './problems.js';
import { splitSections } from './sections.js';
import { lazySections, streamTextSections } from './text-stream.js';
import type { LoadedDocument, LoadItem } from './types.js';

export const EMPTY_REASON = 'is empty (no text after normalization); nothing to index';

/**
 * A .txt file. Files up to `sectionChars` bytes are read whole; larger ones are hashed in a
 * first streaming pass (so `contentHash` is known when the document is handed out) and their
 * sections are streamed from the file in a second pass when iterated.
 */
export async function* loadTextFile(path: string, opts: ResolvedLoadOptions): AsyncGenerator<LoadItem> {
  const size = (await stat(path)).size;
  if (size === 0) {
    yield problem(path, 'EMPTY', EMPTY_REASON);
    return;
  }
  const why = binaryReason(await readHead(path, BINARY_SAMPLE_BYTES));
  if (why) {
    yield problem(path, 'BINARY', why);
    return;
  }

  if (size <= opts.sectionChars) {
    const bytes = await readFile(path);
    const text = normalizeText(new TextDecoder('utf-8').decode(bytes));
    if (text === '') {
      yield problem(path, 'EMPTY', EMPTY_REASON);
      return;
    }
    yield textDocument(path, sha256Hex(bytes), bytes.length, splitSections(text, opts.sectionChars));
    return;
  }

  const digest = await digestFile(path);
  if (!digest.sawContent) {
    yield problem(path, 'EMPTY', EMPTY_REASON);
    return;
  }
  yield textDocument(path, digest.contentHash, digest.byteLength, lazySections(() => streamTextSections(path, 0, opts.sectionChars)));
}

function textDocument(path: string, contentHash: string, byteLength: number, sections: LoadedDocument['sections']): LoadItem {
  return { kind: 'document', doc: { docId: path, source: path, format: 'text', metadata: {}, contentHash, byteLength, sections } };
}
