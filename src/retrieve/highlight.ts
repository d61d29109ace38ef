/**
 * Query-term highlighting: where in a result's text a term of the query occurs, as BM25 sees
 * it. The same analyzer decides (src/lexical/analyzer.ts: NFKC, case folding, stopwords,
 * Porter stemming, identifiers kept whole), so "running" marks "runs" and "RUN", "the" marks
 * nothing, and "ORD-2024-00042" marks the whole order id.
 *
 * Offsets are UTF-16 code units into the original text (what JavaScript's string indices and
 * a browser's Range use), not into the folded text, whose length NFKC may change: each word
 * of the original is analyzed on its own and marked whole when one of its terms is a query term.
 */
import { analyze, identifierSpans } from '../lexical/analyzer.js';

/** [start, end) in UTF-16 code units. */
export type Highlight = [start: number, end: number];

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
/** Distinct words remembered per highlighter (a results page repeats most of its words). */
const CACHE_LIMIT = 50_000;

export class Highlighter {
  readonly terms: ReadonlySet<string>;
  private readonly cache = new Map<string, boolean>();

  constructor(query: string) {
    this.terms = new Set(analyze(query));
  }

  private matches(word: string): boolean {
    let hit = this.cache.get(word);
    if (hit === undefined) {
      hit = analyze(word).some((t) => this.terms.has(t));
      if (this.cache.size < CACHE_LIMIT) this.cache.set(word, hit);
    }
    return hit;
  }

  /** The query's matches in `text`: sorted, non-overlapping (touching or nested ones merged). */
  spans(text: string): Highlight[] {
    if (this.terms.size === 0 || text.length === 0) return [];
    const found: Highlight[] = [];
    for (const id of identifierSpans(text)) if (this.terms.has(id.term)) found.push([id.start, id.end]);
    for (const seg of segmenter.segment(text)) {
      if (seg.isWordLike && this.matches(seg.segment)) found.push([seg.index, seg.index + seg.segment.length]);
    }
    return mergeSpans(found);
  }
}

/** Sorts spans and merges those that overlap (an identifier and its parts become one span). */
export function mergeSpans(spans: Highlight[]): Highlight[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Highlight[] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s < last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The spans of `query`'s terms in `text` (one-off; reuse a Highlighter for many texts). */
export function highlight(query: string, text: string): Highlight[] {
  return new Highlighter(query).spans(text);
}
