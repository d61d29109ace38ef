import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { LoadError } from '../src/errors.js';
import { loadFile, normalizeText } from '../src/ingest/index.js';
import { problemFromError } from '../src/ingest/problems.js';
import { collect, onlyDoc, onlyProblem, sectionsOf, tempDir, textOf, writeTree } from './support/ingest-files.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-text-'));
});
after(() => cleanup());

const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a .txt file: normalized text, absolute docId, hash and size of the raw bytes', async () => {
  const raw = 'First line   \r\nsecond line\r\n\r\n\r\n\r\nThird paragraph, cafe\u0301.\u0007\n';
  await writeTree(root, { 'notes.txt': raw });
  const doc = onlyDoc(await collect(loadFile(join(root, 'notes.txt'))));
  assert.equal(doc.docId, join(root, 'notes.txt'));
  assert.equal(doc.source, doc.docId);
  assert.equal(doc.format, 'text');
  assert.equal(doc.title, undefined);
  assert.deepEqual(doc.metadata, {});
  assert.equal(doc.contentHash, sha256(raw));
  assert.equal(doc.byteLength, Buffer.byteLength(raw));
  assert.deepEqual(await sectionsOf(doc), [{ text: 'First line\nsecond line\n\nThird paragraph, caf\u00e9.', offset: 0 }]);
});

test('relative paths resolve to absolute docIds; upper-case extensions load', async () => {
  await writeTree(root, { 'UPPER.TXT': 'shouting' });
  const rel = relative(process.cwd(), join(root, 'UPPER.TXT'));
  assert.ok(!isAbsolute(rel));
  const doc = onlyDoc(await collect(loadFile(rel)));
  assert.equal(doc.docId, join(root, 'UPPER.TXT'));
  assert.equal(await textOf(doc), 'shouting');
});

test('empty and whitespace-only files are EMPTY problems', async () => {
  await writeTree(root, { 'empty.txt': '', 'blank.txt': '  \n\t\r\n \n' });
  for (const name of ['empty.txt', 'blank.txt']) {
    const p = onlyProblem(await collect(loadFile(join(root, name))));
    assert.equal(p.code, 'EMPTY');
    assert.equal(p.path, join(root, name));
    assert.match(p.reason, /empty/);
  }
});

test('binary junk named .txt is a BINARY problem: NUL bytes, or mostly invalid UTF-8', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const latin = Buffer.alloc(4000);
  for (let i = 0; i < latin.length; i++) latin[i] = 0x80 + (i % 120); // stray high bytes, no NUL
  await writeTree(root, { 'image.txt': png, 'junk.md': latin });
  for (const name of ['image.txt', 'junk.md']) {
    const p = onlyProblem(await collect(loadFile(join(root, name))));
    assert.equal(p.code, 'BINARY', `${name}: ${p.reason}`);
    assert.match(p.reason, /binary|UTF-8/);
  }
});

test('a few invalid bytes in real text are not binary: they become U+FFFD', async () => {
  const bytes = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait, '.repeat(20))]);
  await writeTree(root, { 'latin1.txt': bytes });
  const doc = onlyDoc(await collect(loadFile(join(root, 'latin1.txt'))));
  assert.ok((await textOf(doc)).startsWith('caf\ufffd au lait'));
});

test('a file over sectionChars is streamed: same text as loading it whole, hash known up front', async () => {
  const paras = Array.from({ length: 300 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(i % 17)}\u00e9\u65e5\u{1f600} end.  \r\n`);
  const raw = '\ufeff' + paras.join('\r\n\r\n\r\n');
  await writeTree(root, { 'big.txt': raw });
  const path = join(root, 'big.txt');
  const streamed = onlyDoc(await collect(loadFile(path, { sectionChars: 1000 })));
  assert.equal(streamed.contentHash, sha256(raw));
  assert.equal(streamed.byteLength, Buffer.byteLength(raw));
  assert.ok(!Array.isArray(streamed.sections), 'a large file should be streamed lazily');
  const sections = await sectionsOf(streamed);
  assert.ok(sections.length > 20, `expected many sections, got ${sections.length}`);
  for (const s of sections.slice(0, -1)) {
    assert.ok(s.text.length >= 250 && s.text.length <= 1100, `section of ${s.text.length} chars`);
    assert.ok(s.text.endsWith('\n'), 'a section should end at a line break');
  }
  let joined = '';
  for (const s of sections) {
    assert.equal(s.offset, joined.length);
    joined += s.text;
  }
  assert.equal(joined, normalizeText(raw.slice(1))); // the BOM is not text
  const whole = onlyDoc(await collect(loadFile(path))); // default sectionChars: read whole
  assert.ok(Array.isArray(whole.sections));
  assert.equal(await textOf(whole), joined);
  assert.equal(whole.contentHash, streamed.contentHash);
});

test('a vanished file and an unreadable one are UNREADABLE problems', async () => {
  const p = onlyProblem(await collect(loadFile(join(root, 'no-such-file.txt'))));
  assert.equal(p.code, 'UNREADABLE');
  assert.match(p.reason, /does not exist/);
  assert.equal(p.path, join(root, 'no-such-file.txt'));
});

test('a streamed file that vanishes before its sections are read throws a LoadError naming it', async () => {
  await writeTree(root, { 'doomed.txt': 'some text\n'.repeat(500) });
  const path = join(root, 'doomed.txt');
  const doc = onlyDoc(await collect(loadFile(path, { sectionChars: 1000 })));
  await rm(path);
  await assert.rejects(sectionsOf(doc), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.equal(err.code, 'UNREADABLE');
    assert.equal(err.details.path, path);
    assert.match(err.message, /does not exist/);
    return true;
  });
});

// (A chmod 000 file cannot be tested here: tests and CI run as root, who reads everything;
// the errno -> problem mapping is tested directly below.)
test('file-system errors map to UNREADABLE problems with actionable reasons', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  const denied = problemFromError('/x/secret.txt', err('EACCES'));
  assert.deepEqual(denied, {
    kind: 'problem',
    problem: { path: '/x/secret.txt', code: 'UNREADABLE', reason: 'permission denied; make it readable by this user or leave it out' },
  });
  const io = problemFromError('/x/a.txt', err('EIO'));
  assert.equal(io.kind === 'problem' && io.problem.code, 'UNREADABLE');
  const bug = problemFromError('/x/a.txt', new TypeError('boom'), 'line 3');
  assert.deepEqual(bug.kind === 'problem' && [bug.problem.code, bug.problem.locator], ['PARSE_ERROR', 'line 3']);
});
