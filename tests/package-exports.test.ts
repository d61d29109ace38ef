import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from './support/env.js';

const run = promisify(execFile);

interface PackageJson {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
}

const pkgP = readFile(join(REPO_ROOT, 'package.json'), 'utf8').then((t) => JSON.parse(t) as PackageJson);

test('npm pack holds every entry point (types and code), and the frameworks are optional peers', async () => {
  const pkg = await pkgP;
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
  for (const entry of ['.', './client', './langchain', './llamaindex']) {
    const target = pkg.exports[entry];
    assert.ok(target && typeof target === 'object', `exports["${entry}"]`);
    for (const path of [target.types, target.default]) assert.ok(files.has(path.replace(/^\.\//, '')), `${entry}: ${path} is in the package`);
  }
  for (const framework of ['@langchain/core', '@llamaindex/core']) {
    assert.ok(pkg.peerDependencies[framework], `${framework} is a peer dependency`);
    assert.equal(pkg.peerDependenciesMeta[framework]?.optional, true, `${framework} is optional`);
    assert.ok(!pkg.dependencies[framework], `${framework} is not installed for every user`);
    assert.match(pkg.devDependencies[framework], /^\d+\.\d+\.\d+$/, `${framework} is pinned for the tests`);
  }
});

test('each entry point imports by its package name; the client and the adapters load none of the engine', async () => {
  // a program inside the package resolves "quarry/..." through package.json "exports", as an installed copy would
  const dir = join(REPO_ROOT, 'dist', 'tests', '.exports-probe');
  await mkdir(dir, { recursive: true });
  const probe = join(dir, 'probe.mjs');
  await writeFile(
    probe,
    [
      "import { createRequire } from 'node:module';",
      'const m = await import(process.argv[2]);',
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      "console.log(JSON.stringify({ exports: Object.keys(m).sort(), engine: loaded.filter((k) => /onnxruntime|photostructure|usearch/.test(k)).length }));",
    ].join('\n'),
  );
  try {
    const load = async (name: string) => JSON.parse((await run(process.execPath, [probe, name], { cwd: dir })).stdout) as { exports: string[]; engine: number };
    const main = await load('quarry');
    assert.ok(main.exports.includes('search') && main.exports.includes('upsertDocuments'));
    const client = await load('quarry/client');
    assert.ok(client.exports.includes('QuarryClient') && client.exports.includes('ModelMismatchError'));
    assert.equal(client.engine, 0, 'quarry/client loads no native engine module');
    for (const name of ['quarry/langchain', 'quarry/llamaindex']) {
      const adapter = await load(name);
      for (const e of ['QuarryRetriever', 'QuarryVectorStore', 'inProcess', 'overHttp']) assert.ok(adapter.exports.includes(e), `${name} exports ${e}`);
      assert.equal(adapter.engine, 0, `${name} loads the engine only when a collection is opened in process`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
