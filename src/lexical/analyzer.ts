/**
 * The text analyzer BM25 indexes and queries with (the same one on both sides, so a query
 * term matches what was indexed):
 *
 *  1. Unicode NFKC, then lower case (so "ＡＢＣ", "ABC" and "abc" are one term).
 *  2. Identifiers kept whole: runs of letters/digits joined by - _ . : / @ + # that hold a
 *     digit or an @ ("ORD-2024-00042", "A7X-99", "jane@example.com", "v1.2.3") become one
 *     term besides their parts, so an exact-match query for the whole thing finds the one
 *     document that has it and not every document with "2024" in it.
 *  3. Words by Intl.Segmenter (UAX #29 plus ICU's dictionaries), so Chinese or Japanese text
 *     splits into words instead of one giant token and Thai has its word breaks.
 *  4. English stopwords dropped (the `stopword` package's list), possessive 's removed,
 *     and Porter stemming (`stemmer`) for words of Latin letters only.
 *
 * Changing any step changes the terms on disk: bump ANALYZER_VERSION, and collections
 * analyzed with another version rebuild their lexical index.
 */
import { stemmer } from 'stemmer';
import { eng } from 'stopword';

export const ANALYZER_VERSION = 'quarry-en-1';

const STOPWORDS: ReadonlySet<string> = new Set(eng);
const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
const IDENTIFIER = /[\p{L}\p{N}]+(?:[-_.:/@+#][\p{L}\p{N}]+)+/gu;
const HAS_DIGIT_OR_AT = /[\p{N}@]/u;
const LATIN_WORD = /^[a-z]+$/;
const POSSESSIVE = /['’]s$/;
/** Longer "words" are base64 blobs or hashes: kept whole as identifiers would be, never stemmed. */
const MAX_STEM_LENGTH = 40;

export interface AnalyzerOptions {
  /** Drop English stopwords (default true). */
  stopwords?: boolean;
  /** Porter-stem Latin words (default true). */
  stem?: boolean;
}

/** Normalizes as step 1 does; exported for callers that compare raw strings the same way. */
export function foldText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Identifier terms of `folded` text (step 2), in order of appearance. */
export function identifierTerms(folded: string): string[] {
  const out: string[] = [];
  for (const m of folded.matchAll(IDENTIFIER)) if (HAS_DIGIT_OR_AT.test(m[0])) out.push(m[0]);
  return out;
}

/**
 * Identifier runs of unfolded `text` with their UTF-16 offsets and folded term (step 2's
 * pattern on the original characters, so the offsets point into `text`); for highlighting.
 */
export function identifierSpans(text: string): Array<{ start: number; end: number; term: string }> {
  const out: Array<{ start: number; end: number; term: string }> = [];
  for (const m of text.matchAll(IDENTIFIER)) {
    const term = foldText(m[0]);
    if (HAS_DIGIT_OR_AT.test(term)) out.push({ start: m.index, end: m.index + m[0].length, term });
  }
  return out;
}

/** The terms of `text`, in order, duplicates kept (their counts are BM25's term frequencies). */
export function analyze(text: string, opts: AnalyzerOptions = {}): string[] {
  const dropStop = opts.stopwords ?? true;
  const stem = opts.stem ?? true;
  const folded = foldText(text);
  const terms: string[] = identifierTerms(folded);
  for (const seg of segmenter.segment(folded)) {
    if (!seg.isWordLike) continue;
    let w = seg.segment;
    if (POSSESSIVE.test(w)) w = w.slice(0, -2);
    if (w.length === 0) continue;
    if (dropStop && STOPWORDS.has(w)) continue;
    if (stem && w.length <= MAX_STEM_LENGTH && LATIN_WORD.test(w)) w = stemmer(w);
    terms.push(w);
  }
  return terms;
}

/**
 * The term to match exactly when the whole query is one identifier ("ORD-2024-00042",
 * "A7X99", "jane@example.com"), else null. Hybrid search puts the chunks holding that term
 * first: for such a query an exact match is what the user means, and rank fusion alone can
 * leave it under chunks that merely look similar.
 */
export function wholeQueryIdentifier(query: string): string | null {
  const folded = foldText(query).trim();
  if (folded.length === 0 || /\s/u.test(folded)) return null;
  const ids = identifierTerms(folded);
  if (ids.length === 1 && ids[0] === folded) return folded;
  const words = [...segmenter.segment(folded)].filter((s) => s.isWordLike);
  if (words.length === 1 && words[0].segment === folded && /\p{L}/u.test(folded) && /\p{N}/u.test(folded)) return folded;
  return null;
}
