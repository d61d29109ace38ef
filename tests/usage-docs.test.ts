import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT, tempDir } from './support/env.js';
import { createKeyCli, startServe } from './support/serve.js';

/**
 * docs/usage.md's examples, run as a user would: each TypeScript block, in order, compiled as
 * written (types stripped by TypeScript) and run by Node in one working folder, importing
 * `quarry`, `quarry/client` and `quarry/langchain` through the package's own "exports" (the
 * programs sit inside the package, so the names resolve as they would for an installed one).
 */
let dir: { path: string; cleanup: () => Promise<void> };
let blocks: string[];
const runDir = join(REPO_ROOT, 'dist', 'tests', '.usage-examples');

before(async () => {
  dir = await tempDir('quarry-usage-');
  const page = await readFile(join(REPO_ROOT, 'docs', 'usage.md'), 'utf8');
  blocks = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  await mkdir(runDir, { recursive: true });
});

after(async () => {
  await rm(runDir, { recursive: true, force: true });
  await dir.cleanup();
});

async function runExample(i: number, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const js = ts.transpileModule(blocks[i], { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(runDir, `example-${i + 1}.mjs`);
  await writeFile(file, js);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: dir.path, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`example ${i + 1} exited with ${code}:\n${err}\n${out}`));
    });
  });
}

test('docs/usage.md has the three examples: library, HTTP client, LangChain retriever', () => {
  assert.equal(blocks.length, 3);
  assert.match(blocks[0], /from 'quarry'/);
  assert.match(blocks[1], /from 'quarry\/client'/);
  assert.match(blocks[2], /from 'quarry\/langchain'/);
});

test('example 1 (library) indexes and finds the returns policy', async () => {
  const out = await runExample(0);
  assert.match(out, /^returns \d/);
});

test('example 2 (HTTP client) against a real quarry serve: upsert, filtered search, a typed error', async () => {
  const data = join(dir.path, '.quarry');
  const key = await createKeyCli(data, 'admin');
  const served = await startServe(['--data', data]);
  try {
    const out = await runExample(1, { QUARRY_URL: served.url, QUARRY_KEY: key });
    assert.match(out, /^1 opening-hours \d\.\d{3}$/m);
    assert.ok(!/logistics|shipping/.test(out), 'the filter kept to support documents');
    assert.match(out, /^not found: collection "no-such-collection" does not exist$/m);
  } finally {
    await served.stop();
  }
});

test('example 3 (LangChain retriever) builds the prompt from the right passages', async () => {
  const out = await runExample(2);
  assert.match(out, /^Context:\n- Electronics carry a two-year warranty against manufacturing faults\. \(warranty\)$/m);
  assert.match(out, /Question: is my laptop covered if it breaks\?$/m);
});

test('the examples type-check as TypeScript (strict, NodeNext) against the packed type declarations', async () => {
  const files = await Promise.all(
    blocks.map(async (code, i) => {
      const file = join(runDir, `typed-${i + 1}.mts`);
      await writeFile(file, code);
      return file;
    }),
  );
  const program = ts.createProgram(files, {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.deepEqual(problems, []);
});
