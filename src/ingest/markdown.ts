import { readFile, stat } from 'node:fs/promises';
import { BINARY_SAMPLE_BYTES, binaryReason } from './detect-binary.js';
import { digestFile, readHead, sha256Hex } from './file-bytes.js';
import { FRONT_MATTER_MAX_BYTES, findFrontMatter } from './front-matter.js';
import { FirstHeadingFinder, firstHeading } from './markdown-title.js';
import { normalizeText } from './normalize.js';
import type { ResolvedLoadOptions } from './options.js';
import { problem } from './problems.js';
import { splitSections } from './sections.js';
import { lazySections, streamTextSections } from './text-stream.js';
import { EMPTY_REASON } from './text.js';
import type { LoadItem, LoadedDocument } from './types.js';

/**
 * A .md / .markdown file. YAML front matter becomes `metadata` (a `title` key there becomes
 * the title); otherwise the first level-1 heading is the title. The body stays markdown as
 * written (it is readable text); section offsets are positions in the normalized body,
 * without the front matter. Invalid front matter is reported as a PARSE_ERROR problem
 * (locator "front matter") and the body is still loaded, without metadata.
 * Large files are streamed like plain text (see text.ts).
 */
export async function* loadMarkdownFile(path: string, opts: ResolvedLoadOptions): AsyncGenerator<LoadItem> {
  const size = (await stat(path)).size;
  if (size === 0) {
    yield problem(path, 'EMPTY', EMPTY_REASON);
    return;
  }
  const head = await readHead(path, Math.max(BINARY_SAMPLE_BYTES, FRONT_MATTER_MAX_BYTES));
  const why = binaryReason(head);
  if (why) {
    yield problem(path, 'BINARY', why);
    return;
  }

  const fm = findFrontMatter(head);
  const metadata = fm.kind === 'ok' ? fm.data : {};
  if (fm.kind === 'invalid') {
    yield problem(
      path,
      'PARSE_ERROR',
      `${fm.reason}; the document was loaded without metadata, fix the YAML between the --- lines`,
      'front matter',
    );
  }
  const metaTitle = titleFrom(metadata.title);

  const base = { docId: path, source: path, format: 'markdown' as const, metadata };
  if (size <= opts.sectionChars) {
    const bytes = await readFile(path);
    const body = normalizeText(new TextDecoder('utf-8').decode(bytes.subarray(fm.bodyStart)));
    if (body === '') {
      yield problem(path, 'EMPTY', fm.kind === 'ok' ? 'has front matter but no body text; nothing to index' : EMPTY_REASON);
      return;
    }
    const title = metaTitle ?? firstHeading(body);
    const doc: LoadedDocument = {
      ...base,
      ...(title !== undefined && { title }),
      contentHash: sha256Hex(bytes),
      byteLength: bytes.length,
      sections: splitSections(body, opts.sectionChars),
    };
    yield { kind: 'document', doc };
    return;
  }

  // one pass for the hash, which also finds the first heading if the title is still unknown
  const finder = metaTitle === undefined ? new StreamingLineFeeder(fm.bodyStart) : undefined;
  const digest = await digestFile(path, finder && ((chunk) => finder.push(chunk)));
  if (!digest.sawContent) {
    yield problem(path, 'EMPTY', EMPTY_REASON);
    return;
  }
  const title = metaTitle ?? finder?.end();
  const doc: LoadedDocument = {
    ...base,
    ...(title !== undefined && { title }),
    contentHash: digest.contentHash,
    byteLength: digest.byteLength,
    sections: lazySections(() => streamTextSections(path, fm.bodyStart, opts.sectionChars)),
  };
  yield { kind: 'document', doc };
}

/** A front matter `title` if it is a non-empty string or a number. */
function titleFrom(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const t = normalizeText(value).replace(/\s+/g, ' ').trim();
  return t === '' ? undefined : t;
}

const MAX_CARRIED_LINE = 64 * 1024;

/** Feeds a streamed file's lines (from byte `skip` on) to a FirstHeadingFinder. */
class StreamingLineFeeder {
  private readonly finder = new FirstHeadingFinder();
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';
  private dropping = false; // inside a line longer than MAX_CARRIED_LINE
  private skip: number;

  constructor(skip: number) {
    this.skip = skip;
  }

  /** Returns false once no more chunks are needed. */
  push(chunk: Buffer): boolean {
    if (this.skip >= chunk.length) {
      this.skip -= chunk.length;
      return true;
    }
    const bytes = chunk.subarray(this.skip);
    this.skip = 0;
    const lines = (this.carry + this.decoder.decode(bytes, { stream: true })).split('\n');
    this.carry = lines.pop() ?? '';
    if (this.dropping && lines.length > 0) {
      lines[0] = ''; // the end of an endless line: a paragraph, never a heading
      this.dropping = false;
    }
    for (const line of lines) if (this.finder.pushLine(line)) return false;
    if (this.carry.length > MAX_CARRIED_LINE) {
      this.carry = '';
      this.dropping = true;
    }
    return true;
  }

  end(): string | undefined {
    if (this.finder.title === undefined && !this.dropping) this.finder.pushLine(this.carry + this.decoder.decode());
    return this.finder.title;
  }
}
