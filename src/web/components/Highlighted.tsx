import type { ComponentChild } from 'preact';
import type { Highlights } from '../types.js';

/**
 * `text` (or its [from, to) part) with the server's highlight spans as <mark>: the offsets are
 * UTF-16 positions, JavaScript's own string indices, so slicing needs no conversion.
 */
export function Highlighted({ text, spans = [], from = 0, to = text.length }: { text: string; spans?: Highlights; from?: number; to?: number }) {
  const parts: ComponentChild[] = [];
  let at = from;
  for (const [s0, e0] of spans) {
    const s = Math.max(s0, from);
    const e = Math.min(e0, to);
    if (e <= s || s < at) continue;
    if (s > at) parts.push(text.slice(at, s));
    parts.push(<mark key={s}>{text.slice(s, e)}</mark>);
    at = e;
  }
  if (at < to) parts.push(text.slice(at, to));
  return <>{parts}</>;
}

/** A window of about `size` characters around the first match, cut at word boundaries. */
export function snippetRange(text: string, spans: Highlights | undefined, size = 220): [number, number] {
  if (text.length <= size) return [0, text.length];
  const first = spans?.[0]?.[0] ?? 0;
  let from = Math.max(0, first - Math.floor(size / 4));
  let to = Math.min(text.length, from + size);
  from = Math.max(0, to - size);
  if (from > 0) {
    const sp = text.indexOf(' ', from);
    if (sp !== -1 && sp < first) from = sp + 1;
  }
  if (to < text.length) {
    const sp = text.lastIndexOf(' ', to);
    if (sp > from) to = sp;
  }
  return [from, to];
}
