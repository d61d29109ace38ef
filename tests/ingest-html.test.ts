import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFile } from '../src/ingest/index.js';
import { collect, onlyDoc, onlyProblem, tempDir, textOf, writeTree } from './support/ingest-files.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-html-'));
});
after(() => cleanup());

async function load(name: string, content: string | Uint8Array, opts = {}) {
  await writeTree(root, { [name]: content });
  return collect(loadFile(join(root, name), opts));
}

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <title>  Quarry &amp; Friends  </title>
  <meta name="description" content="A search engine">
  <meta name="KEYWORDS" content="search, vectors">
  <meta name="author" content="Ann Author">
  <meta name="viewport" content="width=device-width">
  <style>body { color: red } .secret { display: none }</style>
  <script>var tracking = "SCRIPT_TEXT";</script>
</head>
<body>
  <nav>Home</nav>
  <h1>Main   heading</h1>
  <p>First <b>bold</b> paragraph with a <a href="https://example.com/x">link</a>.<br>After break.</p>
  <script type="module">console.log("INLINE_SCRIPT")</script>
  <noscript>NOSCRIPT_TEXT</noscript>
  <template><p>TEMPLATE_TEXT</p></template>
  <div hidden>HIDDEN_ATTR_TEXT</div>
  <p style="color: blue; display:none">STYLE_HIDDEN_TEXT</p>
  <!-- COMMENT_TEXT -->
  <ul><li>one</li><li>two</li></ul>
  <table><tr><th>Name</th><th>Size</th></tr><tr><td>a.txt</td><td>3</td></tr></table>
  <section>Section text &eacute;t&eacute; &#x1F600;</section>
  <img src="pic.png" alt="ALT_TEXT">
</body>
</html>`;

test('HTML: visible text only, blocks on their own lines, title and metas', async () => {
  const doc = onlyDoc(await load('page.html', PAGE));
  assert.equal(doc.format, 'html');
  assert.equal(doc.title, 'Quarry & Friends');
  assert.deepEqual(doc.metadata, { description: 'A search engine', keywords: 'search, vectors', author: 'Ann Author' });
  const text = await textOf(doc);
  for (const hidden of ['SCRIPT_TEXT', 'INLINE_SCRIPT', 'NOSCRIPT_TEXT', 'TEMPLATE_TEXT', 'HIDDEN_ATTR_TEXT', 'STYLE_HIDDEN_TEXT', 'COMMENT_TEXT', 'ALT_TEXT', 'color: red', 'example.com', 'Quarry & Friends']) {
    assert.ok(!text.includes(hidden), `${hidden} should not be in the text:\n${text}`);
  }
  const lines = text.split('\n');
  for (const line of ['Home', 'Main heading', 'First bold paragraph with a link.', 'After break.', '- one', '- two', 'Name Size', 'a.txt 3', 'Section text été 😀']) {
    assert.ok(lines.includes(line), `missing line ${JSON.stringify(line)} in:\n${text}`);
  }
  assert.ok(text.indexOf('Main heading') < text.indexOf('- two'), 'document order');
  assert.ok(!/\n{3}/.test(text));
});

test('HTML: the declared charset is honoured; no <title> falls back to the first <h1>', async () => {
  const bytes = Buffer.from('<meta charset="windows-1252"><h1>Caf\xe9 \x93quoted\x94</h1><p>ok</p>', 'latin1');
  const doc = onlyDoc(await load('legacy.htm', bytes));
  assert.equal(doc.title, 'Café “quoted”');
  assert.equal(await textOf(doc), 'Café “quoted”\n\nok');
});

test('HTML without visible text is EMPTY; over maxBytes is TOO_LARGE', async () => {
  const empty = onlyProblem(await load('blank.html', '<html><head><title>t</title><script>x()</script></head><body> </body></html>'));
  assert.equal(empty.code, 'EMPTY');
  const big = onlyProblem(await load('big.html', `<p>${'x'.repeat(5000)}</p>`, { maxBytes: 1000 }));
  assert.equal(big.code, 'TOO_LARGE');
  assert.match(big.reason, /maxBytes/);
});
