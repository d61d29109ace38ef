import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SUPPORTED_EXTENSIONS, listSourceFiles, loadFile, loadPaths } from '../src/ingest/index.js';
import { collect, docsOf, onlyProblem, problemsOf, tempDir, textOf, writeTree } from './support/ingest-files.js';
import { makePdf } from './support/ingest-pdf.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-walk-'));
  await writeTree(root, {
    'tree/b.txt': 'b',
    'tree/a.md': '# A',
    'tree/C.txt': 'capital C sorts before lower case',
    'tree/z/deep/y.html': '<p>deep html</p>',
    'tree/z/x.jsonl': '{"_id":"x1","text":"one"}\n{"_id":"x2","text":"two"}\n',
    'tree/m.pdf': makePdf({ pages: [['pdf text']] }),
    'tree/m/inner.txt': 'inner',
    'tree/.hidden/secret.txt': 'hidden folder',
    'tree/.dotfile.txt': 'hidden file',
    'tree/node_modules/pkg/readme.md': 'dependency',
    'tree/notes.docx': 'unsupported, skipped silently in a folder',
    'tree/Makefile': 'no extension',
    'tree/empty.txt': '',
  });
});
after(() => cleanup());

test('SUPPORTED_EXTENSIONS lists the loadable extensions', () => {
  assert.deepEqual([...SUPPORTED_EXTENSIONS].sort(), ['.htm', '.html', '.jsonl', '.markdown', '.md', '.pdf', '.txt']);
});

test('folders are walked recursively in sorted order, hidden entries and node_modules skipped', async () => {
  const items = await collect(loadPaths([join(root, 'tree')]));
  const t = (rel: string) => join(root, 'tree', rel);
  assert.deepEqual(
    items.map((i) => (i.kind === 'document' ? i.doc.docId : `${i.problem.code} ${i.problem.path}`)),
    [
      t('C.txt'),
      t('a.md'),
      t('b.txt'),
      `EMPTY ${t('empty.txt')}`,
      t('m/inner.txt'), // the folder "m" sorts before "m.pdf": names are compared, not paths
      t('m.pdf'),
      t('z/deep/y.html'),
      'x1',
      'x2',
    ],
  );
  // deterministic: a second walk gives the same order
  const again = await collect(loadPaths([join(root, 'tree')]));
  assert.deepEqual(docsOf(again).map((d) => d.docId), docsOf(items).map((d) => d.docId));
  assert.equal(await textOf(docsOf(items)[3]), 'inner');
});

test('listSourceFiles gives the files loadPaths would load, with sizes', async () => {
  const files = await listSourceFiles([join(root, 'tree')]);
  assert.deepEqual(
    files.map((f) => [f.path.slice(root.length + 1), f.format]),
    [
      ['tree/C.txt', 'text'],
      ['tree/a.md', 'markdown'],
      ['tree/b.txt', 'text'],
      ['tree/empty.txt', 'text'],
      ['tree/m/inner.txt', 'text'],
      ['tree/m.pdf', 'pdf'],
      ['tree/z/deep/y.html', 'html'],
      ['tree/z/x.jsonl', 'jsonl'],
    ],
  );
  assert.equal(files[2].bytes, 1);
});

test('paths named explicitly: unsupported and missing ones are problems, hidden ones load, order kept', async () => {
  const items = await collect(
    loadPaths([
      join(root, 'tree/b.txt'),
      join(root, 'tree/notes.docx'),
      join(root, 'does/not/exist'),
      join(root, 'tree/Makefile'),
      join(root, 'tree/.dotfile.txt'),
      join(root, 'tree/a.md'),
    ]),
  );
  assert.deepEqual(
    items.map((i) => (i.kind === 'document' ? i.doc.docId.slice(root.length + 1) : i.problem.code)),
    ['tree/b.txt', 'UNSUPPORTED', 'UNREADABLE', 'UNSUPPORTED', 'tree/.dotfile.txt', 'tree/a.md'],
  );
  const [docx, missing, makefile] = problemsOf(items);
  assert.match(docx.reason, /unsupported extension "\.docx"; supported: \.txt/);
  assert.equal(missing.path, join(root, 'does/not/exist'));
  assert.match(missing.reason, /does not exist/);
  assert.match(makefile.reason, /no file extension/);
});

test('a file named twice, or inside a folder also named, loads once', async () => {
  const items = await collect(loadPaths([join(root, 'tree/b.txt'), join(root, 'tree/z'), join(root, 'tree/b.txt'), join(root, 'tree/z/x.jsonl')]));
  assert.deepEqual(docsOf(items).map((d) => d.docId.replace(root, '')), ['/tree/b.txt', '/tree/z/deep/y.html', 'x1', 'x2']);
  assert.equal(problemsOf(items).length, 0);
});

test('symbolic links are followed once: a loop ends, a linked file loads once, a broken link is reported', async () => {
  await writeTree(root, { 'links/real/doc.txt': 'linked text', 'links/other.md': 'other' });
  await symlink(join(root, 'links'), join(root, 'links/real/loop')); // a cycle back up the tree
  await symlink(join(root, 'links/real/doc.txt'), join(root, 'links/alias.txt'));
  await symlink(join(root, 'links/gone.txt'), join(root, 'links/broken.txt'));
  await symlink(join(root, 'links/real'), join(root, 'links/zz-dir-link'));
  const items = await collect(loadPaths([join(root, 'links')]));
  const docs = docsOf(items);
  // alias.txt (sorted first) claims the file; real/doc.txt is the same file and is skipped
  assert.deepEqual(docs.map((d) => d.docId.slice(root.length + 1)), ['links/alias.txt', 'links/other.md']);
  assert.equal(await textOf(docs[0]), 'linked text');
  const [broken] = problemsOf(items);
  assert.equal(broken.code, 'UNREADABLE');
  assert.equal(broken.path, join(root, 'links/broken.txt'));
  assert.match(broken.reason, /symbolic link/);
  assert.equal(problemsOf(items).length, 1);
});

test('loadFile: one file; a folder or a FIFO is UNSUPPORTED, not walked or opened', async () => {
  const jsonl = await collect(loadFile(join(root, 'tree/z/x.jsonl')));
  assert.deepEqual(docsOf(jsonl).map((d) => d.docId), ['x1', 'x2']);
  const folder = onlyProblem(await collect(loadFile(join(root, 'tree'))));
  assert.equal(folder.code, 'UNSUPPORTED');
  assert.match(folder.reason, /folder/);

  await mkdir(join(root, 'fifo'), { recursive: true });
  try {
    execFileSync('mkfifo', [join(root, 'fifo/pipe.txt')]);
  } catch {
    return; // no mkfifo here
  }
  const fifo = onlyProblem(await collect(loadFile(join(root, 'fifo/pipe.txt'))));
  assert.equal(fifo.code, 'UNSUPPORTED');
  assert.match(fifo.reason, /not a regular file/);
  // in a folder walk it is skipped silently (reading it would block forever)
  assert.deepEqual(await collect(loadPaths([join(root, 'fifo')])), []);
});

test('invalid options throw InvalidInputError', async () => {
  await assert.rejects(collect(loadPaths([root], { sectionChars: 0 })), { code: 'INVALID_INPUT' });
  await assert.rejects(collect(loadFile(root, { maxBytes: -1 })), /maxBytes/);
});
