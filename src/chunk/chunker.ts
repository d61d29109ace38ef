import { InvalidInputError } from '../errors.js';
import type { TextSection } from '../ingest/types.js';

/** What chunking needs from the model's tokenizer. */
export interface TokenCounter {
  countTokens(text: string): number;
  /** The most content tokens one model input holds (special tokens excluded). */
  readonly maxContentTokens: number;
  readonly specialTokenCount: number;
}

export interface ChunkOptions {
  /** Tokens per chunk as the model sees them, special tokens included (default 256). */
  chunkTokens?: number;
  /** Tokens shared by consecutive chunks (default 32). */
  overlapTokens?: number;
  /** Tokens to keep free in each chunk (for a title prepended before embedding). */
  reserveTokens?: number;
}

export interface Chunk {
  /** Position of the chunk in its document, from 0. */
  seq: number;
  text: string;
  /** Span in the document's normalized text: text === doc.slice(start, end). */
  start: number;
  end: number;
  /** Content tokens of `text`. */
  tokenCount: number;
}

export const DEFAULT_CHUNK_TOKENS = 256;
export const DEFAULT_OVERLAP_TOKENS = 32;

/** A run of text with its token count; chunks are built from these. */
interface Unit {
  start: number;
  end: number;
  tokens: number;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' });

export function resolveChunkOptions(opts: ChunkOptions, counter: TokenCounter): Required<ChunkOptions> & { budget: number } {
  const chunkTokens = opts.chunkTokens ?? DEFAULT_CHUNK_TOKENS;
  const overlapTokens = opts.overlapTokens ?? DEFAULT_OVERLAP_TOKENS;
  const reserveTokens = opts.reserveTokens ?? 0;
  if (!Number.isInteger(chunkTokens) || chunkTokens < 8) {
    throw new InvalidInputError(`chunk size must be an integer of at least 8 tokens, got ${chunkTokens}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= chunkTokens / 2) {
    throw new InvalidInputError(
      `chunk overlap must be an integer from 0 to less than half the chunk size (${chunkTokens}), got ${overlapTokens}`,
    );
  }
  // Chunk size counts the model's special tokens, so 256 fills a 256-token model exactly;
  // a larger setting is capped at what the model can read instead of being silently truncated.
  const content = Math.min(chunkTokens - counter.specialTokenCount, counter.maxContentTokens);
  const budget = Math.max(8, content - reserveTokens);
  return { chunkTokens, overlapTokens, reserveTokens, budget };
}

/**
 * Splits a document's sections into chunks of at most `budget` content tokens, preferring
 * sentence boundaries: whole sentences are packed until the next would overflow; a sentence
 * longer than a chunk is split between words. Consecutive chunks of a section share up to
 * `overlapTokens` tokens (whole trailing sentences when they fit, else trailing words).
 * Spans refer to the document's normalized text, so every chunk can be traced to its source.
 */
export function* chunkSections(
  sections: Iterable<TextSection>,
  counter: TokenCounter,
  opts: ChunkOptions = {},
  firstSeq = 0,
): Generator<Chunk> {
  const { budget, overlapTokens } = resolveChunkOptions(opts, counter);
  let seq = firstSeq;
  for (const section of sections) {
    for (const c of chunkText(section.text, counter, budget, overlapTokens)) {
      yield { ...c, seq: seq++, start: c.start + section.offset, end: c.end + section.offset };
    }
  }
}

function* chunkText(text: string, counter: TokenCounter, budget: number, overlap: number): Generator<Omit<Chunk, 'seq'>> {
  const units = sentenceUnits(text, counter, budget);
  let i = 0;
  while (i < units.length) {
    // Pack whole units into this chunk.
    let j = i;
    let tokens = 0;
    while (j < units.length && tokens + units[j].tokens <= budget) {
      tokens += units[j].tokens;
      j++;
    }
    if (j === i) j = i + 1; // a unit is never larger than budget, but never loop forever
    const start = units[i].start;
    const end = units[j - 1].end;
    const chunkText = text.slice(start, end);
    yield { text: chunkText, start, end, tokenCount: counter.countTokens(chunkText) };
    if (j >= units.length) break;
    // Step back over trailing units that fit in the overlap, so the next chunk starts with them.
    // The shared part plus the next unit must still fit, or the next chunk would hold only
    // text already indexed.
    const next = units[j].tokens;
    let back = j;
    let shared = 0;
    while (back - 1 > i && shared + units[back - 1].tokens <= overlap && shared + units[back - 1].tokens + next <= budget) {
      shared += units[back - 1].tokens;
      back--;
    }
    if (back === j && overlap > 0) {
      // The last sentence alone is longer than the overlap: share its trailing words instead.
      const tail = trailingWords(text, units[j - 1], counter, Math.min(overlap, budget - next));
      if (tail) {
        units.splice(j, 0, tail);
        // `tail` was inserted at j: the next chunk begins there.
        back = j;
      }
    }
    i = back;
  }
}

/** Sentences of `text` (whitespace trimmed), each split further if it exceeds `budget`. */
function sentenceUnits(text: string, counter: TokenCounter, budget: number): Unit[] {
  const units: Unit[] = [];
  for (const seg of sentenceSegmenter.segment(text)) {
    const [s, e] = trim(text, seg.index, seg.index + seg.segment.length);
    if (s >= e) continue;
    const tokens = counter.countTokens(text.slice(s, e));
    if (tokens <= budget) units.push({ start: s, end: e, tokens });
    else units.push(...splitLong(text, s, e, counter, budget));
  }
  return units;
}

/** Splits an over-long sentence between words into pieces of at most `budget` tokens. */
function splitLong(text: string, start: number, end: number, counter: TokenCounter, budget: number): Unit[] {
  const out: Unit[] = [];
  let pieceStart = -1;
  let pieceEnd = -1;
  let pieceTokens = 0;
  const flush = () => {
    if (pieceStart >= 0) out.push({ start: pieceStart, end: pieceEnd, tokens: pieceTokens });
    pieceStart = -1;
    pieceTokens = 0;
  };
  for (const w of wordSegmenter.segment(text.slice(start, end))) {
    const ws = start + w.index;
    const we = ws + w.segment.length;
    if (!w.segment.trim()) continue;
    let t = counter.countTokens(w.segment);
    if (t > budget) {
      // One "word" longer than a chunk (base64, a URL, unbroken CJK): cut it by characters.
      flush();
      for (const piece of splitByChars(text, ws, we, counter, budget)) out.push(piece);
      continue;
    }
    if (pieceTokens + t > budget) flush();
    if (pieceStart < 0) pieceStart = ws;
    pieceEnd = we;
    // Words are tokenized alone here; the chunk's exact count is measured again when it is cut.
    pieceTokens += t;
    t = 0;
  }
  flush();
  return out;
}

function splitByChars(text: string, start: number, end: number, counter: TokenCounter, budget: number): Unit[] {
  const out: Unit[] = [];
  let s = start;
  while (s < end) {
    // Start from a proportional guess and shrink until it fits; at least one character.
    let e = Math.min(end, s + budget * 4);
    let t = counter.countTokens(text.slice(s, e));
    while (t > budget && e - s > 1) {
      e = s + Math.max(1, Math.floor(((e - s) * budget) / t) - 1);
      t = counter.countTokens(text.slice(s, e));
    }
    // Never cut a surrogate pair in half.
    if (e < end && /[\uD800-\uDBFF]/.test(text[e - 1]) && e - s > 1) e--;
    out.push({ start: s, end: e, tokens: counter.countTokens(text.slice(s, e)) });
    s = e;
  }
  return out;
}

/** The last words of `unit` adding up to at most `overlap` tokens, as a unit of their own. */
function trailingWords(text: string, unit: Unit, counter: TokenCounter, overlap: number): Unit | null {
  const words = [...wordSegmenter.segment(text.slice(unit.start, unit.end))].filter((w) => w.segment.trim());
  let tokens = 0;
  let k = words.length;
  while (k > 0) {
    const t = counter.countTokens(words[k - 1].segment);
    if (tokens + t > overlap) break;
    tokens += t;
    k--;
  }
  if (k === words.length || k === 0) return null;
  const start = unit.start + words[k].index;
  return { start, end: unit.end, tokens: counter.countTokens(text.slice(start, unit.end)) };
}

function trim(text: string, s: number, e: number): [number, number] {
  while (s < e && /\s/.test(text[s])) s++;
  while (e > s && /\s/.test(text[e - 1])) e--;
  return [s, e];
}
