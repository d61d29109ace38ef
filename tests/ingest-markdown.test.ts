import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFile, normalizeText } from '../src/ingest/index.js';
import { collect, docsOf, onlyDoc, onlyProblem, problemsOf, sectionsOf, tempDir, textOf, writeTree } from './support/ingest-files.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-md-'));
});
after(() => cleanup());

async function load(name: string, content: string, opts = {}) {
  await writeTree(root, { [name]: content });
  return collect(loadFile(join(root, name), opts));
}

test('front matter becomes metadata, its title the title; offsets refer to the body', async () => {
  const raw = '---\ntitle: "Guide to  Quarry"\ntags: [search, rag]\nversion: 2\ndraft: false\n---\n# Heading\n\nBody text.\n';
  const doc = onlyDoc(await load('guide.md', raw));
  assert.equal(doc.format, 'markdown');
  assert.equal(doc.title, 'Guide to Quarry');
  assert.deepEqual(doc.metadata, { title: 'Guide to  Quarry', tags: ['search', 'rag'], version: 2, draft: false });
  assert.deepEqual(await sectionsOf(doc), [{ text: '# Heading\n\nBody text.', offset: 0 }]);
  assert.equal(doc.contentHash, createHash('sha256').update(raw).digest('hex'));
  assert.equal(doc.byteLength, Buffer.byteLength(raw));
});

test('without a front matter title, the first level-1 heading is the title (not one in code)', async () => {
  const raw = [
    'Intro paragraph.',
    '',
    '```sh',
    '# not a heading, a shell comment',
    '```',
    '',
    '## Level two',
    '',
    '#   The *Real* Title   ##',
    '',
    '# Second H1',
  ].join('\n');
  const doc = onlyDoc(await load('headings.markdown', raw));
  assert.equal(doc.title, 'The *Real* Title');
  assert.deepEqual(doc.metadata, {});
  assert.equal(await textOf(doc), raw); // the body stays markdown as written

  assert.equal(onlyDoc(await load('setext.md', 'Setext Title\n============\n\ntext')).title, 'Setext Title');
  assert.equal(onlyDoc(await load('none.md', 'just text\n#hashtag')).title, undefined);
});

test('invalid YAML front matter: a PARSE_ERROR problem, and the body still loads', async () => {
  const items = await load('broken.md', '---\ntitle: [unclosed\n---\n# Body Title\n\ntext');
  const [p] = problemsOf(items);
  assert.equal(p.code, 'PARSE_ERROR');
  assert.equal(p.locator, 'front matter');
  assert.match(p.reason, /YAML/);
  const [doc] = docsOf(items);
  assert.deepEqual(doc.metadata, {});
  assert.equal(doc.title, 'Body Title');
  assert.equal(await textOf(doc), '# Body Title\n\ntext');
});

test('a --- pair around plain text is markdown (thematic breaks), not front matter', async () => {
  const doc = onlyDoc(await load('rules.md', '---\nJust a sentence.\n---\nMore.'));
  assert.deepEqual(doc.metadata, {});
  assert.equal(await textOf(doc), '---\nJust a sentence.\n---\nMore.');
});

test('front matter with no body is EMPTY', async () => {
  const p = onlyProblem(await load('only-fm.md', '---\ntitle: x\n---\n\n  \n'));
  assert.equal(p.code, 'EMPTY');
});

test('a streamed markdown file: title found in the hash pass, body offsets after the front matter', async () => {
  const body = Array.from({ length: 200 }, (_, i) => (i === 150 ? '# Late Title' : `Paragraph ${i} ${'text '.repeat(20)}`)).join('\n\n');
  const fm = '\ufeff---\r\nauthor: Ann\r\n---\r\n';
  const doc = onlyDoc(await load('long.md', fm + body, { sectionChars: 2048 }));
  assert.equal(doc.title, 'Late Title');
  assert.deepEqual(doc.metadata, { author: 'Ann' });
  assert.ok(!Array.isArray(doc.sections));
  const text = await textOf(doc);
  assert.equal(text, normalizeText(body));
  assert.ok(text.includes('\n\n# Late Title\n\n'));
  assert.ok((await sectionsOf(onlyDoc(await load('long.md', fm + body, { sectionChars: 2048 })))).length > 5);
});
