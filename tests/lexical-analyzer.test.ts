import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, identifierTerms, wholeQueryIdentifier } from '../src/lexical/analyzer.js';

test('NFKC and case folding: full-width and upper case become one term', () => {
  assert.deepEqual(analyze('ＱＵＡＲＲＹ Quarry quarry'), ['quarri', 'quarri', 'quarri']);
});

test('CJK text is segmented into words, not one giant token', () => {
  const terms = analyze('我们在北京大学学习');
  assert.ok(terms.length >= 4, `got ${JSON.stringify(terms)}`);
  assert.ok(terms.includes('北京'), `got ${JSON.stringify(terms)}`);
  const ja = analyze('東京都に住んでいます');
  assert.ok(ja.length >= 3, `got ${JSON.stringify(ja)}`);
});

test('identifiers are indexed whole besides their parts', () => {
  const t = analyze('Order ORD-2024-00042 and part A7X-99 shipped to jane.doe@example.com with v1.2.3');
  for (const whole of ['ord-2024-00042', 'a7x-99', 'jane.doe@example.com', 'v1.2.3']) assert.ok(t.includes(whole), `${whole} missing from ${JSON.stringify(t)}`);
  for (const part of ['ord', '2024', '00042', '99']) assert.ok(t.includes(part), `${part} missing from ${JSON.stringify(t)}`);
  // a hyphenated word without digits is not an identifier
  assert.deepEqual(identifierTerms('well-known state-of-the-art'), []);
});

test('English stopwords are dropped and words are Porter-stemmed', () => {
  assert.deepEqual(analyze('The patients were running the generalizations'), ['patient', 'run', 'gener']);
  assert.deepEqual(analyze('the patient’s cells'), ['patient', 'cell']);
  assert.deepEqual(analyze('The running', { stopwords: false, stem: false }), ['the', 'running']);
});

test('index side and query side agree: a stemmed query term matches the indexed form', () => {
  const doc = new Set(analyze('Vaccination reduced hospitalizations'));
  for (const t of analyze('vaccinated hospitalization')) assert.ok(doc.has(t), `${t} not in ${[...doc].join(',')}`);
});

test('wholeQueryIdentifier: only a query that is one identifier', () => {
  assert.equal(wholeQueryIdentifier('ORD-2024-00042'), 'ord-2024-00042');
  assert.equal(wholeQueryIdentifier('  A7X99 '), 'a7x99');
  assert.equal(wholeQueryIdentifier('jane@example.com'), 'jane@example.com');
  assert.equal(wholeQueryIdentifier('where is ORD-2024-00042'), null);
  assert.equal(wholeQueryIdentifier('2024'), null);
  assert.equal(wholeQueryIdentifier('vaccines'), null);
});
