import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFile } from '../src/ingest/index.js';
import { collect, docsOf, onlyProblem, problemsOf, sectionsOf, tempDir, writeTree } from './support/ingest-files.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-jsonl-'));
});
after(() => cleanup());

async function load(name: string, content: string | Uint8Array, opts = {}) {
  await writeTree(root, { [name]: content });
  return collect(loadFile(join(root, name), opts));
}

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

test('BEIR corpus: one document per line; bad lines are problems with their line, the rest loads', async () => {
  const lines = [
    '{"_id": "doc-1", "title": "First", "text": "Alpha text.", "metadata": {"url": "https://a", "year": 2020}}',
    '{"_id": "doc-2", "title": "", "text": "Beta\\r\\ntext  "}',
    '{"_id": "doc-3", "title": "Broken", "text": "unterminated',
    '',
    '{"title": "No id", "text": "x"}',
    '{"_id": "doc-5", "title": "No text"}',
    '{"_id": "doc-1", "text": "duplicate id"}',
    '[1, 2, 3]',
    '{"_id": 7, "title": "Numeric id", "text": "Gamma."}',
  ];
  const items = await load('corpus.jsonl', lines.join('\n') + '\n');
  const docs = docsOf(items);
  assert.deepEqual(docs.map((d) => d.docId), ['doc-1', 'doc-2', '7']);
  assert.deepEqual(docs.map((d) => d.locator), ['line 1', 'line 2', 'line 9']);

  const [d1, d2, d7] = docs;
  assert.equal(d1.format, 'jsonl');
  assert.equal(d1.source, join(root, 'corpus.jsonl'));
  assert.equal(d1.title, 'First');
  assert.deepEqual(d1.metadata, { url: 'https://a', year: 2020 });
  assert.deepEqual(await sectionsOf(d1), [{ text: 'Alpha text.', offset: 0 }], 'the title is not prepended');
  assert.equal(d1.contentHash, sha256(lines[0]));
  assert.equal(d1.byteLength, Buffer.byteLength(lines[0]));
  assert.equal(d2.title, undefined);
  assert.deepEqual(d2.metadata, {});
  assert.deepEqual(await sectionsOf(d2), [{ text: 'Beta\ntext', offset: 0 }]);
  assert.equal(d7.title, 'Numeric id');

  const problems = problemsOf(items);
  assert.deepEqual(
    problems.map((p) => [p.locator, p.code]),
    [
      ['line 3', 'PARSE_ERROR'],
      ['line 5', 'PARSE_ERROR'],
      ['line 6', 'PARSE_ERROR'],
      ['line 7', 'PARSE_ERROR'],
      ['line 8', 'PARSE_ERROR'],
    ],
  );
  for (const p of problems) assert.equal(p.path, join(root, 'corpus.jsonl'));
  assert.match(problems[0].reason, /not valid JSON/);
  assert.match(problems[1].reason, /_id/);
  assert.match(problems[2].reason, /"text"/);
  assert.match(problems[3].reason, /repeats _id "doc-1" of line 1/);
  // items come in file order: the problem for line 3 sits between documents 2 and 9
  assert.deepEqual(
    items.map((i) => (i.kind === 'document' ? i.doc.locator : i.problem.locator)),
    ['line 1', 'line 2', 'line 3', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9'],
  );
});

test('JSONL: CRLF line ends, a BOM, no final newline, invalid UTF-8, title-only and empty records', async () => {
  const bytes = Buffer.concat([
    Buffer.from('\ufeff{"_id":"a","text":"first"}\r\n'),
    Buffer.from('{"_id":"b","text":"caf'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}\r\n'),
    Buffer.from('{"_id":"c","title":"Only a title","text":""}\n'),
    Buffer.from('{"_id":"d","title":" ","text":" \\n "}\n'),
    Buffer.from('{"_id":"e","text":"last, no newline"}'),
  ]);
  const items = await load('mixed.jsonl', bytes);
  const docs = docsOf(items);
  assert.deepEqual(docs.map((d) => d.docId), ['a', 'c', 'e']);
  assert.equal(docs[0].contentHash, sha256(Buffer.from('\ufeff{"_id":"a","text":"first"}')));
  assert.deepEqual(await sectionsOf(docs[1]), [], 'a title-only record is kept, with no text');
  assert.equal(docs[1].title, 'Only a title');
  assert.deepEqual(await sectionsOf(docs[2]), [{ text: 'last, no newline', offset: 0 }]);
  assert.deepEqual(
    problemsOf(items).map((p) => [p.locator, p.code]),
    [
      ['line 2', 'PARSE_ERROR'],
      ['line 4', 'EMPTY'],
    ],
  );
  assert.match(problemsOf(items)[0].reason, /UTF-8/);
});

test('JSONL: a record line over maxBytes is TOO_LARGE and skipped; an empty file is EMPTY', async () => {
  const big = `{"_id":"big","text":"${'x'.repeat(5000)}"}`;
  const items = await load('big.jsonl', `{"_id":"s","text":"small"}\n${big}\n{"_id":"t","text":"tail"}\n`, { maxBytes: 1000 });
  assert.deepEqual(docsOf(items).map((d) => d.docId), ['s', 't']);
  const [p] = problemsOf(items);
  assert.equal(p.code, 'TOO_LARGE');
  assert.equal(p.locator, 'line 2');

  assert.equal(onlyProblem(await load('empty.jsonl', '')).code, 'EMPTY');
  assert.equal(onlyProblem(await load('blank-lines.jsonl', '\n\n  \n')).code, 'EMPTY');
});

test('JSONL: 20,000 records load completely and in file order', async () => {
  const n = 20_000;
  const body = Array.from({ length: n }, (_, i) => JSON.stringify({ _id: `id${i}`, title: `T${i}`, text: `text number ${i}` })).join('\n');
  await writeTree(root, { 'long.jsonl': body });
  let count = 0;
  let last = '';
  for await (const item of loadFile(join(root, 'long.jsonl'))) {
    assert.equal(item.kind, 'document');
    if (item.kind === 'document') last = item.doc.docId;
    count++;
  }
  assert.equal(count, n);
  assert.equal(last, `id${n - 1}`);
});
