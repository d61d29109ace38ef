import { createReadStream } from 'node:fs';
import { LoadError } from '../errors.js';
import { StreamingNormalizer } from './normalize.js';
import { describeFsError, isFsError } from './problems.js';
import { SectionSplitter } from './sections.js';
import type { TextSection } from './types.js';

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Streams a UTF-8 file (from byte `start`) as normalized sections of about `sectionChars`,
 * holding at most a section plus a read chunk (and one incomplete line) in memory. Invalid
 * UTF-8 becomes U+FFFD; a BOM at the start of the file is dropped. File-system errors while
 * streaming (the file vanished, a disk error) are thrown as LoadError with the path, because
 * the document has already been handed out by then.
 */
export async function* streamTextSections(
  path: string,
  start: number,
  sectionChars: number,
): AsyncGenerator<TextSection> {
  const decoder = new TextDecoder('utf-8');
  const normalizer = new StreamingNormalizer(Math.max(sectionChars, 64 * 1024));
  const splitter = new SectionSplitter(sectionChars);
  // Each section carries where in the file its end about lies (for progress): its end in
  // characters times the bytes per character decoded so far (both counted at the same point,
  // so what the normalizer and splitter still hold does not skew it).
  let read = 0;
  let decoded = 0;
  const at = (sections: TextSection[]) =>
    sections.map((s) => ({ ...s, sourceEnd: start + Math.round(((s.offset + s.text.length) * read) / Math.max(1, decoded)) }));
  const decode = (chunk?: Buffer) => {
    const text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    read += chunk?.length ?? 0;
    decoded += text.length;
    return text;
  };
  try {
    const stream = createReadStream(path, { start, highWaterMark: READ_CHUNK_BYTES });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      yield* at(splitter.push(normalizer.push(decode(chunk))));
    }
  } catch (err) {
    if (isFsError(err)) throw new LoadError(path, describeFsError(err), 'UNREADABLE');
    throw err;
  }
  yield* at(splitter.push(normalizer.push(decode())));
  yield* at(splitter.push(normalizer.end()));
  yield* at(splitter.end());
}

/** Wraps a generator factory so `sections` can be handed out before it is iterated. */
export function lazySections(make: () => AsyncGenerator<TextSection>): AsyncIterable<TextSection> {
  return { [Symbol.asyncIterator]: () => make() };
}
