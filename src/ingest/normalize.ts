/**
 * Text normalization shared by every loader. `TextSection.offset` values are positions
 * (UTF-16 code units) in the text this produces, so the rules must be identical whether a
 * document is normalized whole (`normalizeText`) or streamed (`StreamingNormalizer`).
 *
 * The rules, in the order they are applied:
 *  1. line breaks: `\r\n` and lone `\r` become `\n`;
 *  2. control characters (C0 and C1, U+0000-U+001F, U+007F-U+009F) other than `\n` and `\t`
 *     are removed; a lone UTF-16 surrogate (possible only from JSON `\ud800` escapes) becomes
 *     U+FFFD, so the text is always valid UTF-8 when stored;
 *  3. Unicode NFC;
 *  4. whitespace at the end of every line is trimmed (JavaScript's `trimEnd` set: spaces,
 *     tabs, NBSP and the other Unicode spaces);
 *  5. runs of 3 or more `\n` collapse to 2 (at most one blank line), and blank lines at the
 *     very start and end of the document are dropped.
 * A document whose normalized text is '' was empty or whitespace only.
 *
 * Every rule is local to a line except 5, which the streaming normalizer carries across
 * chunks as a count of pending newlines; NFC never composes across `\n` (a starter that
 * composes with nothing), so normalizing line by line equals normalizing the whole.
 */

const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LINE_BREAKS = /\r\n?/g;

/** Rules 1-2: character-local clean-up. The input must not end inside a `\r\n` pair. */
function cleanChars(s: string): string {
  return s.replace(LINE_BREAKS, '\n').replace(CONTROL_CHARS, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** Rules 3-4 on text made of whole lines (or a piece of a line that ends in a non-space). */
function finishLines(s: string): string {
  const nfc = s.normalize('NFC');
  // split + trimEnd rather than a /[^\S\n]+$/gm regex: the regex backtracks quadratically on
  // long runs of spaces in the middle of a line.
  const lines = nfc.split('\n');
  for (let i = 0; i < lines.length; i++) lines[i] = lines[i].trimEnd();
  return lines.join('\n');
}

/** Rule 5, carried across pieces: collapses newline runs and drops leading/trailing ones. */
class NewlineCollapser {
  private pending = 0; // newlines seen but not yet emitted
  private started = false; // has any non-newline text been emitted?

  push(s: string): string {
    if (s.length === 0) return '';
    let lead = 0;
    while (lead < s.length && s.charCodeAt(lead) === 10) lead++;
    if (lead === s.length) {
      this.pending += lead;
      return '';
    }
    let end = s.length;
    while (s.charCodeAt(end - 1) === 10) end--;
    const core = s.slice(lead, end).replace(/\n{3,}/g, '\n\n');
    const before = this.started ? '\n'.repeat(Math.min(this.pending + lead, 2)) : '';
    this.pending = s.length - end;
    this.started = true;
    return before + core;
  }
}

/** Normalizes a whole string by the rules above. */
export function normalizeText(s: string): string {
  return new NewlineCollapser().push(finishLines(cleanChars(s)));
}

const WHITESPACE = /\s/;

/**
 * Normalizes text that arrives in chunks (e.g. from a TextDecoder over a file stream), with
 * bounded memory: it holds back only the last, incomplete line. A line longer than
 * `maxPendingChars` is cut at a point where cutting cannot change the result (after a
 * non-space, and where NFC of the two halves equals NFC of the whole), so even a file with
 * no line breaks streams. `push(a) + push(b) + ... + end()` === `normalizeText(a + b + ...)`.
 */
export class StreamingNormalizer {
  private pendingLine = '';
  private pendingCR = false;
  private readonly collapser = new NewlineCollapser();

  constructor(private readonly maxPendingChars = 1 << 20) {}

  push(chunk: string): string {
    if (this.pendingCR) {
      chunk = '\r' + chunk;
      this.pendingCR = false;
    }
    if (chunk.endsWith('\r')) {
      // might be the first half of "\r\n": decide when the next chunk arrives
      this.pendingCR = true;
      chunk = chunk.slice(0, -1);
    }
    this.pendingLine += cleanChars(chunk);
    const lastNL = this.pendingLine.lastIndexOf('\n');
    let ready = '';
    if (lastNL >= 0) {
      ready = this.pendingLine.slice(0, lastNL + 1);
      this.pendingLine = this.pendingLine.slice(lastNL + 1);
    } else if (this.pendingLine.length > this.maxPendingChars) {
      const cut = safeCut(this.pendingLine);
      if (cut > 0) {
        ready = this.pendingLine.slice(0, cut);
        this.pendingLine = this.pendingLine.slice(cut);
      }
    }
    return ready ? this.collapser.push(finishLines(ready)) : '';
  }

  end(): string {
    let rest = this.pendingLine;
    if (this.pendingCR) rest += '\n';
    this.pendingLine = '';
    this.pendingCR = false;
    return rest ? this.collapser.push(finishLines(rest)) : '';
  }
}

/**
 * A position in a line (no `\n`) where it can be split without changing its normalization:
 * the character before is not whitespace (so trailing-space trimming is unaffected), the one
 * at the cut is not the second half of a surrogate pair, and NFC does not combine across it.
 * Returns 0 when none is found near the end (the caller then keeps buffering).
 */
function safeCut(line: string): number {
  const WINDOW = 32; // Unicode's stream-safe format bounds combining sequences at 30 marks
  const lowest = Math.max(1, line.length - 8192);
  for (let p = line.length - 1; p >= lowest; p--) {
    const c = line.charCodeAt(p);
    if (c >= 0xdc00 && c <= 0xdfff) continue;
    if (WHITESPACE.test(line[p - 1])) continue;
    if (c >= 0x21 && c <= 0x7e) return p; // ASCII never composes with what precedes it
    const a = line.slice(Math.max(0, p - WINDOW), p);
    const b = line.slice(p, p + WINDOW);
    if ((a + b).normalize('NFC') === a.normalize('NFC') + b.normalize('NFC')) return p;
  }
  return 0;
}
