import type { TextSection } from './types.js';

/**
 * Cuts a stream of normalized text into sections of about `targetChars`, preferring a
 * paragraph break (`\n\n`), then a line break, and only as a last resort an arbitrary point
 * (never inside a surrogate pair). A break stays with the section it ends, so the sections'
 * texts concatenate to exactly the normalized text and each offset is the previous offset
 * plus the previous length.
 */
export class SectionSplitter {
  private buf = '';
  private offset = 0;

  constructor(private readonly targetChars: number) {}

  push(text: string): TextSection[] {
    this.buf += text;
    const out: TextSection[] = [];
    while (this.buf.length >= this.targetChars) {
      const cut = this.findCut();
      out.push({ text: this.buf.slice(0, cut), offset: this.offset });
      this.offset += cut;
      this.buf = this.buf.slice(cut);
    }
    return out;
  }

  end(): TextSection[] {
    if (this.buf.length === 0) return [];
    const last = { text: this.buf, offset: this.offset };
    this.offset += this.buf.length;
    this.buf = '';
    return [last];
  }

  private findCut(): number {
    const t = this.targetChars;
    const para = this.buf.lastIndexOf('\n\n', t);
    if (para >= 0 && para >= t / 2) return para + 2;
    const line = this.buf.lastIndexOf('\n', t);
    if (line >= 0 && line >= t / 4) return line + 1;
    let cut = Math.max(1, t);
    const c = this.buf.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut += 1; // keep the pair together
    return Math.min(cut, this.buf.length);
  }
}

/** Splits a whole normalized text into sections (one section when it is short). */
export function splitSections(text: string, targetChars: number): TextSection[] {
  const splitter = new SectionSplitter(targetChars);
  return [...splitter.push(text), ...splitter.end()];
}
