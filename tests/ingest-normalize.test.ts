import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeText } from '../src/ingest/index.js';
import { StreamingNormalizer } from '../src/ingest/normalize.js';
import { SectionSplitter, splitSections } from '../src/ingest/sections.js';

test('normalizeText: line breaks, control characters, NFC, trailing spaces, blank-line runs', () => {
  assert.equal(normalizeText('a\r\nb\rc\n'), 'a\nb\nc');
  assert.equal(normalizeText('x\u0000y\u0007z\u001b\u007f\u0085w\tv'), 'xyzw\tv');
  assert.equal(normalizeText('cafe\u0301'), 'caf\u00e9'); // NFD -> NFC
  assert.equal(normalizeText('Ａ'), 'Ａ'); // NFC, not NFKC: full-width stays
  assert.equal(normalizeText('line  \t\nnext\u00a0 \nend'), 'line\nnext\nend');
  assert.equal(normalizeText('p1\n\n\n\n\np2\n \n \n\np3'), 'p1\n\np2\n\np3');
  assert.equal(normalizeText('\n\n\n  lead\n\n\n'), '  lead'); // leading spaces of a line stay
  assert.equal(normalizeText(' \n\t\r\n \u0000'), '');
  assert.equal(normalizeText('bad \ud800 surrogate'), 'bad \ufffd surrogate');
  assert.equal(normalizeText('\ud83d\ude00 ok'), '\ud83d\ude00 ok');
});

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'word', ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\n\n', 'e\u0301', '\u0301', '\u00e9', '\u1100\u1161', '\u11a8', '\u0000', '\u0085', '\ud83d\ude00', '\u00a0', '日本'];

test('streaming normalization equals whole-text normalization for any chunking', () => {
  const rand = rng(42);
  for (let round = 0; round < 300; round++) {
    let s = '';
    const n = 1 + Math.floor(rand() * 80);
    for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
    const expected = normalizeText(s);
    // a tiny pending-line limit forces the mid-line cuts as well
    const norm = new StreamingNormalizer(1 + Math.floor(rand() * 8));
    let out = '';
    for (let i = 0; i < s.length; ) {
      let len = 1 + Math.floor(rand() * 6);
      // the decoder never splits a surrogate pair; neither do we
      const c = s.charCodeAt(i + len - 1);
      if (c >= 0xd800 && c <= 0xdbff) len++;
      out += norm.push(s.slice(i, i + len));
      i += len;
    }
    out += norm.end();
    assert.equal(out, expected, `round ${round}: ${JSON.stringify(s)}`);
  }
});

test('a line with no line break is emitted in pieces once it is over the limit', () => {
  const norm = new StreamingNormalizer(1000);
  let emitted = 0;
  for (let i = 0; i < 100; i++) emitted += norm.push('abc def '.repeat(100)).length;
  assert.ok(emitted > 70_000, `only ${emitted} chars were emitted before the end`);
  const rest = norm.end();
  assert.equal(emitted + rest.length, 'abc def '.repeat(10_000).trimEnd().length);
});

test('sections: cut at paragraph breaks, then line breaks, offsets contiguous, text preserved', () => {
  const text = Array.from({ length: 50 }, (_, i) => `Paragraph ${i} line one.\nline two of ${i}.`).join('\n\n');
  const sections = splitSections(text, 200);
  assert.ok(sections.length > 5);
  let offset = 0;
  for (const [i, s] of sections.entries()) {
    assert.equal(s.offset, offset);
    offset += s.text.length;
    if (i < sections.length - 1) assert.ok(s.text.endsWith('\n\n'), `section ${i} ends mid-paragraph: ${JSON.stringify(s.text.slice(-20))}`);
  }
  assert.equal(sections.map((s) => s.text).join(''), text);

  // no paragraph break within reach: a line break is used
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i} of text`).join('\n');
  for (const s of splitSections(lines, 100).slice(0, -1)) assert.ok(s.text.endsWith('\n'));

  // no break at all: cut anywhere but never inside a surrogate pair
  const emoji = '\ud83d\ude00'.repeat(100);
  const parts = splitSections(emoji, 7);
  assert.equal(parts.map((s) => s.text).join(''), emoji);
  for (const p of parts) assert.ok(p.text.length % 2 === 0, 'a surrogate pair was split');

  const splitter = new SectionSplitter(10);
  assert.deepEqual(splitter.push('abc'), []);
  assert.deepEqual(splitter.end(), [{ text: 'abc', offset: 0 }]);
});
