import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFile } from '../src/ingest/index.js';
import { collect, onlyDoc, onlyProblem, sectionsOf, tempDir, textOf, writeTree } from './support/ingest-files.js';
import { makePdf } from './support/ingest-pdf.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-pdf-'));
});
after(() => cleanup());

async function load(name: string, content: Uint8Array, opts = {}) {
  await writeTree(root, { [name]: content });
  return collect(loadFile(join(root, name), opts));
}

const GOOD = makePdf({
  pages: [['Hello (PDF) world.', 'Second line of page one.'], [], ['Page three text.']],
  info: { Title: 'A Test Document', Author: 'Ann Author', Producer: 'hand-written' },
});

test('PDF: text per page, pages separated by a blank line, title/author/pageCount', async () => {
  const doc = onlyDoc(await load('doc.pdf', GOOD));
  assert.equal(doc.format, 'pdf');
  assert.equal(doc.title, 'A Test Document');
  assert.deepEqual(doc.metadata, { title: 'A Test Document', author: 'Ann Author', pageCount: 3 });
  assert.equal(doc.contentHash, createHash('sha256').update(GOOD).digest('hex'));
  assert.equal(doc.byteLength, GOOD.length);
  const sections = await sectionsOf(doc);
  assert.equal(sections.length, 2, 'one section per page with text');
  assert.equal(await textOf(doc), 'Hello (PDF) world.\nSecond line of page one.\n\nPage three text.');
  assert.equal(sections[1].offset, 'Hello (PDF) world.\nSecond line of page one.\n\n'.length);
});

test('a truncated PDF and garbage named .pdf are PARSE_ERROR problems', async () => {
  const truncated = onlyProblem(await load('truncated.pdf', GOOD.subarray(0, 120)));
  assert.equal(truncated.code, 'PARSE_ERROR');
  assert.equal(truncated.path, join(root, 'truncated.pdf'));
  assert.match(truncated.reason, /not a valid PDF|could not be parsed/);

  const garbage = onlyProblem(await load('garbage.pdf', Buffer.from('this is not a PDF at all\n'.repeat(10))));
  assert.equal(garbage.code, 'PARSE_ERROR');
  assert.match(garbage.reason, /not a PDF/);

  const headerOnly = onlyProblem(await load('header-only.pdf', Buffer.from('%PDF-1.7\n' + 'x'.repeat(500))));
  assert.equal(headerOnly.code, 'PARSE_ERROR');
});

test('an encrypted PDF is a PARSE_ERROR that says it needs a password', async () => {
  const p = onlyProblem(await load('locked.pdf', makePdf({ pages: [['secret']], encrypted: true })));
  assert.equal(p.code, 'PARSE_ERROR');
  assert.match(p.reason, /password/);
});

test('parsing over pdfTimeoutMs is a PARSE_ERROR, and the next PDF still loads', async () => {
  // 1 ms is shorter than starting the parser: the attempt is given up and its worker killed
  const slow = onlyProblem(await load('slow.pdf', GOOD, { pdfTimeoutMs: 1 }));
  assert.equal(slow.code, 'PARSE_ERROR');
  assert.match(slow.reason, /within 1 ms/);
  const doc = onlyDoc(await load('after-timeout.pdf', GOOD));
  assert.equal(doc.metadata.pageCount, 3);
});

test('a PDF with no text is EMPTY; one over maxBytes is TOO_LARGE', async () => {
  const blank = onlyProblem(await load('blank.pdf', makePdf({ pages: [[], []] })));
  assert.equal(blank.code, 'EMPTY');
  assert.match(blank.reason, /OCR/);
  const big = onlyProblem(await load('big.pdf', GOOD, { maxBytes: 100 }));
  assert.equal(big.code, 'TOO_LARGE');
});
