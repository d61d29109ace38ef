import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { chunkSections, resolveChunkOptions, type Chunk } from '../src/chunk/chunker.js';
import type { ModelTokenizer } from '../src/embed/tokenizer.js';
import { InvalidInputError } from '../src/errors.js';
import { SEEDS_DIR } from './support/env.js';
import { minilmTokenizer } from './support/model.js';

let tok: ModelTokenizer;
before(async () => {
  tok = await minilmTokenizer();
});

function chunks(text: string, opts = {}): Chunk[] {
  return [...chunkSections([{ text, offset: 0 }], tok, opts)];
}

test('the model tokenizer counts the ids the model sees', () => {
  assert.equal(tok.countTokens('This is an example sentence'), 5);
  assert.equal(tok.maxSeqLength, 256);
  assert.equal(tok.maxContentTokens, 254);
  assert.deepEqual(tok.encodeForModel('This is an example sentence').ids, [101, 2023, 2003, 2019, 2742, 6251, 102]);
});

test('chunks of a real document: spans match the text, sizes stay within the model, neighbours overlap', async () => {
  const text = await readFile(join(SEEDS_DIR, '000_28c76942766aa899.txt'), 'utf8');
  const cs = chunks(text);
  assert.ok(cs.length >= 8, `expected several chunks, got ${cs.length}`);
  cs.forEach((c, i) => {
    assert.equal(c.seq, i);
    assert.equal(text.slice(c.start, c.end), c.text);
    assert.equal(c.tokenCount, tok.countTokens(c.text));
    assert.ok(c.tokenCount <= 254, `chunk ${i} has ${c.tokenCount} tokens`);
  });
  for (let i = 1; i < cs.length; i++) {
    // every chunk starts inside or right after its predecessor: nothing is skipped
    assert.ok(cs[i].start <= cs[i - 1].end + 2, `gap between chunk ${i - 1} and ${i}`);
    assert.ok(cs[i].start > cs[i - 1].start, 'chunks advance');
    const shared = Math.max(0, cs[i - 1].end - cs[i].start);
    if (shared > 0) assert.ok(tok.countTokens(text.slice(cs[i].start, cs[i - 1].end)) <= 32 + 2);
  }
  const overlapping = cs.filter((c, i) => i > 0 && c.start < cs[i - 1].end).length;
  assert.ok(overlapping >= cs.length / 2, 'most neighbours share an overlap');
  // the whole document is covered
  assert.ok(cs[0].start <= 5 && cs[cs.length - 1].end >= text.trimEnd().length - 1);
});

test('chunks prefer sentence boundaries', () => {
  const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} talks about topic ${i % 7} in some detail.`);
  const text = sentences.join(' ');
  for (const c of chunks(text, { chunkTokens: 64, overlapTokens: 8 })) {
    assert.ok(c.text.endsWith('.'), `chunk should end at a sentence end: ${JSON.stringify(c.text.slice(-20))}`);
    assert.ok(c.tokenCount <= 62);
  }
});

test('a sentence longer than a chunk is split between words; an endless token by characters', () => {
  const long = Array.from({ length: 900 }, (_, i) => `word${i % 13}`).join(' ');
  const cs = chunks(long, { chunkTokens: 128, overlapTokens: 16 });
  assert.ok(cs.length > 5);
  for (const c of cs) {
    assert.ok(c.tokenCount <= 126);
    assert.equal(long.slice(c.start, c.end), c.text);
    assert.match(c.text, /^word\d+( word\d+)*$/, 'cut between whole words');
  }
  // One segmenter "word" of 3000 model tokens (BERT splits at every '.', Intl.Segmenter does not).
  const blob = 'ab.cd'.repeat(1000);
  const bs = chunks(blob, { chunkTokens: 64, overlapTokens: 0 });
  assert.ok(bs.length > 10);
  assert.equal(bs.map((c) => c.text).join(''), blob);
  for (const c of bs) assert.ok(c.tokenCount <= 62);
});

test('section offsets carry into chunk spans, and CJK text chunks too', () => {
  const cjk = '東京は日本の首都です。'.repeat(200);
  const cs = [...chunkSections([{ text: cjk, offset: 1000 }], tok, { chunkTokens: 64, overlapTokens: 8 })];
  assert.ok(cs.length > 5);
  for (const c of cs) {
    assert.equal(cjk.slice(c.start - 1000, c.end - 1000), c.text);
    assert.ok(c.tokenCount <= 62);
  }
});

test('empty and whitespace-only text give no chunks', () => {
  assert.deepEqual(chunks(''), []);
  assert.deepEqual(chunks('   \n\n  \t '), []);
});

test('bad chunk settings are refused with a clear error', () => {
  assert.throws(() => resolveChunkOptions({ chunkTokens: 4 }, tok), InvalidInputError);
  assert.throws(() => resolveChunkOptions({ chunkTokens: 64, overlapTokens: 40 }, tok), /overlap/);
  assert.throws(() => resolveChunkOptions({ overlapTokens: -1 }, tok), InvalidInputError);
  // larger than the model reads: capped at the model's maximum, not silently truncated later
  assert.equal(resolveChunkOptions({ chunkTokens: 1000 }, tok).budget, 254);
});
