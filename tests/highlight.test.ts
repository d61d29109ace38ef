import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../src/lexical/analyzer.js';
import { highlight, Highlighter, mergeSpans } from '../src/retrieve/highlight.js';

/** The highlighted substrings, in order. */
function marked(query: string, text: string): string[] {
  return highlight(query, text).map(([s, e]) => text.slice(s, e));
}

test('stemming: "running" marks runs, run and RUNNING, not unrelated words', () => {
  const text = 'She runs every day. A run in the park. RUNNING shoes. The runner rested; a rung broke.';
  assert.deepEqual(marked('running', text), ['runs', 'run', 'RUNNING']);
});

test('case folding and NFKC: full-width and upper-case words match, offsets point into the original', () => {
  const text = 'ＱＵＡＲＲＹ found Quarry and quarries';
  const spans = highlight('quarry', text);
  assert.deepEqual(spans.map(([s, e]) => text.slice(s, e)), ['ＱＵＡＲＲＹ', 'Quarry', 'quarries']);
});

test('stopwords mark nothing; a query of stopwords only marks nothing', () => {
  assert.deepEqual(marked('the river and the sea', 'The river met the sea at the delta.'), ['river', 'sea']);
  assert.deepEqual(highlight('the and of', 'the cat and the hat of old'), []);
});

test('identifiers are marked whole; their parts match too, as BM25 indexes them', () => {
  const text = 'Order ORD-2024-00042 left Hamburg; order ORD-2024-00043 did not. In 2024 sales grew.';
  // "Order" stems to "order", not the part "ord"; the other id shares the parts "ORD" and "2024"
  assert.deepEqual(marked('ORD-2024-00042', text), ['ORD-2024-00042', 'ORD', '2024', '2024']);
  // the whole id is one span, not three touching ones
  const spans = highlight('ORD-2024-00042', text);
  const idx = text.indexOf('ORD-2024-00042');
  assert.ok(spans.some(([s, e]) => s === idx && e === idx + 'ORD-2024-00042'.length));
  // the other address shares the word "example.com" (a term of both), not the address
  assert.deepEqual(marked('jane.doe@example.com', 'write to jane.doe@example.com or bob@example.com'), ['jane.doe@example.com', 'example.com']);
});

test('possessives: "patient" marks "patient’s" whole', () => {
  assert.deepEqual(marked('patient', 'the patient’s cells and the patients'), ['patient’s', 'patients']);
});

test('UTF-16 offsets: emoji and astral characters before a match shift it by their code units', () => {
  const text = '😀😀 𝒳 heron at dawn';
  const [[s, e]] = highlight('herons', text);
  assert.equal(text.slice(s, e), 'heron');
  assert.equal(s, text.indexOf('heron'));
  assert.equal(s, 8, '2 emoji (4 units) + space + 𝒳 (2 units) + space = 8');
});

test('CJK: a word the segmenter finds is marked', () => {
  const text = '我们在北京大学学习';
  const spans = highlight('北京', text);
  assert.ok(spans.length >= 1);
  assert.ok(spans.every(([s, e]) => text.slice(s, e).includes('北京')));
});

test('no match, empty text, empty query: no spans', () => {
  assert.deepEqual(highlight('kingfisher', 'herons wade in shallow water'), []);
  assert.deepEqual(highlight('heron', ''), []);
  assert.deepEqual(highlight('   ', 'heron'), []);
});

test('spans are sorted, within the text, not overlapping, and each holds a query term (property over a varied text)', () => {
  const text =
    'Running water (runs: 3) and the RUNNERS ran; ORD-2024-00042, ord 2024. Café cafés CAFÉ. Über-fast über. ' +
    'Patients’ records, the patient’s record; records recorded. 東京 and 京都. v1.2.3 vs v1.2.4 version.';
  for (const query of ['running records', 'ORD-2024-00042', 'café', 'über fast', 'v1.2.3 version', 'patient record run']) {
    const terms = new Set(analyze(query));
    const spans = highlight(query, text);
    let last = -1;
    for (const [s, e] of spans) {
      assert.ok(s >= 0 && e <= text.length && s < e, `${query}: bad span ${s}-${e}`);
      assert.ok(s >= last, `${query}: spans overlap or are unsorted`);
      last = e;
      const inside = analyze(text.slice(s, e));
      assert.ok(inside.some((t) => terms.has(t)), `${query}: "${text.slice(s, e)}" holds no query term`);
    }
    // and every word of the text whose term is a query term is inside some span
    for (const seg of new Intl.Segmenter('en', { granularity: 'word' }).segment(text)) {
      if (!seg.isWordLike || !analyze(seg.segment).some((t) => terms.has(t))) continue;
      assert.ok(
        spans.some(([s, e]) => s <= seg.index && seg.index + seg.segment.length <= e),
        `${query}: "${seg.segment}" at ${seg.index} is a match but not marked`,
      );
    }
  }
});

test('mergeSpans joins nested and overlapping spans, keeps touching ones apart', () => {
  assert.deepEqual(mergeSpans([[10, 12], [0, 5], [2, 4], [4, 8], [8, 9]]), [[0, 8], [8, 9], [10, 12]]);
});

test('a Highlighter reuses its query for many texts with the same answers as one-off calls', () => {
  const h = new Highlighter('herons fishing');
  const texts = ['Grey herons fish.', 'A heron was fishing.', 'Nothing here.'];
  for (const t of texts) assert.deepEqual(h.spans(t), highlight('herons fishing', t));
  assert.deepEqual([...h.terms].sort(), ['fish', 'heron']);
});
