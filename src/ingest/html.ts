import { readFile, stat } from 'node:fs/promises';
import { compile } from 'html-to-text';
import { DomUtils, parseDocument } from 'htmlparser2';
import { binaryReason } from './detect-binary.js';
import { sha256Hex } from './file-bytes.js';
import { decodeHtml, sniffHtmlEncoding } from './html-charset.js';
import { normalizeText } from './normalize.js';
import type { ResolvedLoadOptions } from './options.js';
import { formatBytes, problem } from './problems.js';
import { splitSections } from './sections.js';
import { EMPTY_REASON } from './text.js';
import type { LoadItem, LoadedDocument } from './types.js';

/*
 * Libraries: htmlparser2 (fast, forgiving, the parser under cheerio and html-to-text) gives a
 * DOM in which we read <title> and <meta> and remove what a reader never sees; html-to-text
 * then renders the visible rest as text with block elements on their own lines (headings,
 * paragraphs, lists, tables, <br>), entities decoded and whitespace collapsed like a browser.
 * Writing that rendering by hand means re-deriving the HTML block/inline and whitespace rules;
 * cheerio would add a jQuery-style layer we do not need on top of the same parser.
 */

/** Elements whose content is never shown as page text. */
const INVISIBLE_ELEMENTS = new Set([
  'script', 'style', 'noscript', 'template', 'head', 'title', 'meta', 'link', 'base',
  'iframe', 'object', 'embed', 'canvas', 'audio', 'video', 'map', 'datalist', 'dialog',
]);
const HIDDEN_STYLE = /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)/i;
const META_KEYS = new Set(['description', 'keywords', 'author']);

const BLOCK_LIKE = [
  'address', 'caption', 'center', 'dd', 'details', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'hgroup', 'legend', 'menu', 'search', 'section', 'summary', 'tbody', 'tfoot', 'thead',
];

const htmlToText = compile({
  wordwrap: false,
  // the size limit is ours (maxBytes), do not let html-to-text truncate silently
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER },
  baseElements: { selectors: ['body'], returnDomByDefault: true },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'hr', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, options: { uppercase: false } })),
    { selector: 'ul', options: { itemPrefix: '- ' } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'inlineSurround', options: { suffix: ' ' } },
    { selector: 'th', format: 'inlineSurround', options: { suffix: ' ' } },
    ...BLOCK_LIKE.map((tag) => ({ selector: tag, format: 'block' })),
  ],
});

type Dom = ReturnType<typeof parseDocument>;
type DomNode = Dom['children'][number];

/** An .html / .htm file: its visible text, `<title>` as title, description/keywords/author metas. */
export async function* loadHtmlFile(path: string, opts: ResolvedLoadOptions): AsyncGenerator<LoadItem> {
  const size = (await stat(path)).size;
  if (size > opts.maxBytes) {
    yield problem(
      path,
      'TOO_LARGE',
      `is ${formatBytes(size)}, over the ${formatBytes(opts.maxBytes)} limit for an HTML file; split it or raise maxBytes`,
    );
    return;
  }
  if (size === 0) {
    yield problem(path, 'EMPTY', EMPTY_REASON);
    return;
  }
  const bytes = await readFile(path);
  const encoding = sniffHtmlEncoding(bytes);
  if (encoding === 'utf-8') {
    const why = binaryReason(bytes);
    if (why) {
      yield problem(path, 'BINARY', why);
      return;
    }
  }
  const dom = parseDocument(decodeHtml(bytes, encoding));
  const { title, metadata } = readHead(dom);
  removeInvisible(dom);
  const text = normalizeText(htmlToText(DomUtils.getOuterHTML(dom)));
  if (text === '') {
    yield problem(path, 'EMPTY', 'has no visible text; nothing to index');
    return;
  }
  const doc: LoadedDocument = {
    docId: path,
    source: path,
    format: 'html',
    ...(title !== undefined && { title }),
    metadata,
    contentHash: sha256Hex(bytes),
    byteLength: bytes.length,
    sections: splitSections(text, opts.sectionChars),
  };
  yield { kind: 'document', doc };
}

function oneLine(s: string): string {
  return normalizeText(s).replace(/\s+/g, ' ').trim();
}

function readHead(dom: Dom): { title?: string; metadata: Record<string, unknown> } {
  const metadata: Record<string, unknown> = {};
  const titleEl = DomUtils.findOne((el) => el.name === 'title', dom.children, true);
  let title = titleEl ? oneLine(DomUtils.textContent(titleEl)) : '';
  if (title === '') {
    // no <title>: fall back to the first <h1>, as a reader would
    const h1 = DomUtils.findOne((el) => el.name === 'h1', dom.children, true);
    title = h1 ? oneLine(DomUtils.textContent(h1)) : '';
  }
  for (const meta of DomUtils.findAll((el) => el.name === 'meta', dom.children)) {
    const name = (DomUtils.getAttributeValue(meta, 'name') ?? '').trim().toLowerCase();
    const content = oneLine(DomUtils.getAttributeValue(meta, 'content') ?? '');
    if (META_KEYS.has(name) && content !== '' && !(name in metadata)) metadata[name] = content;
  }
  return title === '' ? { metadata } : { title, metadata };
}

function isInvisible(node: DomNode): boolean {
  if (node.type === 'comment' || node.type === 'directive') return true;
  if (!DomUtils.isTag(node)) return false;
  if (INVISIBLE_ELEMENTS.has(node.name)) return true;
  const attrs = node.attribs;
  if ('hidden' in attrs) return true;
  if (node.name === 'input' && (attrs.type ?? '').toLowerCase() === 'hidden') return true;
  return attrs.style !== undefined && HIDDEN_STYLE.test(attrs.style);
}

function removeInvisible(dom: Dom): void {
  // an explicit stack, not recursion: a hostile page may nest thousands of elements deep
  const doomed: DomNode[] = [];
  const stack: DomNode[] = [...dom.children];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (isInvisible(node)) doomed.push(node);
    else if (DomUtils.hasChildren(node)) stack.push(...node.children);
  }
  for (const node of doomed) DomUtils.removeElement(node);
}
