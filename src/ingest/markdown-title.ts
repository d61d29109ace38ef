import { normalizeText } from './normalize.js';

const ATX_H1 = /^ {0,3}#(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_H1_UNDERLINE = /^ {0,3}=+[ \t]*$/;
const MAX_HEADING_LINE = 2000; // longer lines are paragraphs: keeps the regex cheap
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Finds a markdown document's first level-1 heading, fed one line at a time (so it can run
 * over a streamed file): an ATX heading `# Title` (closing #s dropped) or a setext heading
 * (a paragraph line underlined with `===`). Lines inside fenced code blocks are skipped, and
 * indented code (4+ spaces) never matches. The title is normalized and inner whitespace is
 * collapsed; inline markdown (`*emphasis*`, links) is kept as written.
 */
export class FirstHeadingFinder {
  private fence: string | undefined;
  private previous = ''; // the previous line, if it could be a setext heading's text
  title: string | undefined;

  /** Returns true once the title is found (then feed no more lines). */
  pushLine(rawLine: string): boolean {
    if (this.title !== undefined) return true;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const fence = FENCE.exec(line);
    if (this.fence !== undefined) {
      if (fence && fence[1][0] === this.fence[0] && fence[1].length >= this.fence.length) this.fence = undefined;
      this.previous = '';
      return false;
    }
    if (fence) {
      this.fence = fence[1];
      this.previous = '';
      return false;
    }
    const atx = line.length <= MAX_HEADING_LINE ? ATX_H1.exec(line) : null;
    if (atx) {
      const title = clean(atx[1] ?? '');
      if (title) this.title = title;
      this.previous = '';
      return this.title !== undefined;
    }
    if (this.previous && SETEXT_H1_UNDERLINE.test(line)) {
      const title = clean(this.previous);
      if (title) this.title = title;
      return this.title !== undefined;
    }
    this.previous = line.length <= MAX_HEADING_LINE && /^ {0,3}\S/.test(line) ? line : '';
    return false;
  }
}

function clean(s: string): string {
  return normalizeText(s).replace(/\s+/g, ' ').trim();
}

/** The first level-1 heading of a whole markdown text, if any. */
export function firstHeading(text: string): string | undefined {
  const finder = new FirstHeadingFinder();
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (finder.pushLine(text.slice(start, end))) break;
    start = end + 1;
  }
  return finder.title;
}
