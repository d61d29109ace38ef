import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, type CliResult } from './support/cli.js';
import { CLI, tempDir } from './support/env.js';
import { SqliteDb } from '../src/store/sqlite.js';

const INT8 = 'sentence-transformers/all-MiniLM-L6-v2:int8';

let dir: { path: string; cleanup: () => Promise<void> };
let many: string;
let few: string;
before(async () => {
  dir = await tempDir('quarry-cli-index-');
  // enough one-chunk files for three commits of 256 chunks (the real model, its faster int8 variant)
  many = join(dir.path, 'many');
  await mkdir(many);
  for (let i = 0; i < 600; i++) {
    const words = Array.from({ length: 30 }, (_, j) => `term${(i * 13 + j) % 211}`).join(' ');
    await writeFile(join(many, `note-${String(i).padStart(4, '0')}.txt`), `Note ${i} is about ${words}.`);
  }
  few = join(dir.path, 'few');
  await mkdir(few);
  for (let i = 0; i < 150; i++) await writeFile(join(few, `n-${i}.txt`), `Short note ${i} about term${i % 37} and term${i % 11}.`);
});
after(async () => {
  await dir.cleanup();
});

test('quarry index of a path that does not exist exits 3 with one line, and creates nothing', async () => {
  const data = join(dir.path, 'nothing-here');
  const r = await runCli(['index', join(dir.path, 'no', 'such', 'path'), '--data', data]);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^quarry: error: .*no\/such\/path does not exist; nothing was indexed and nothing was created/);
  assert.equal(existsSync(data), false, 'no data folder, no collection');
  const two = await runCli(['index', '/no/such/a', '/no/such/b', '--data', data, '--json']);
  assert.equal(two.code, 3);
  assert.equal(JSON.parse(two.stderr).error, 'PATH_NOT_FOUND');
  assert.equal(existsSync(data), false);
});

test('indexing a folder again reports the documents removed with their files; --no-prune keeps them', async () => {
  const folder = join(dir.path, 'sync');
  const data = join(dir.path, 'sync-data');
  await mkdir(folder);
  for (const n of ['a', 'b', 'c', 'd']) await writeFile(join(folder, `${n}.md`), `# ${n}\n\nA short note called ${n}.`);
  const first = await runCli(['index', folder, '--data', data]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /4 added, 0 updated, 0 unchanged, 0 removed/);
  for (const n of ['b', 'c', 'd']) await unlink(join(folder, `${n}.md`));
  const kept = await runCli(['index', folder, '--data', data, '--no-prune']);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /1 unchanged, 0 removed/);
  const synced = await runCli(['index', folder, '--data', data]);
  assert.equal(synced.code, 0, synced.stderr);
  assert.match(synced.stdout, /1 unchanged, 3 removed, .*now version 2/);
  const info = JSON.parse((await runCli(['info', '--json', '--data', data])).stdout);
  assert.equal(info.documents, 1);
});

/** Live documents in a collection's database right now (a writer's commits included), read-only. */
async function liveDocuments(data: string): Promise<number> {
  const file = join(data, 'default', 'meta.sqlite');
  if (!existsSync(file)) return 0;
  const db = new SqliteDb(file, { readonly: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare('SELECT COUNT(*) AS n FROM doc_live WHERE to_gen IS NULL').get() as { n: number }).n;
  } catch {
    return 0; // not created yet
  } finally {
    await db.close();
  }
}

/** Runs `quarry index` and sends `signal` once `ready()` holds; resolves with what the command printed. */
function indexAndSignal(args: string[], signal: NodeJS.Signals, ready: () => Promise<boolean>): Promise<CliResult & { signalled: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'index', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let polling = false;
    const poll = setInterval(() => {
      if (signalled || polling) return;
      polling = true;
      void ready().then((yes) => {
        polling = false;
        if (yes && !signalled) {
          signalled = true;
          child.kill(signal);
        }
      });
    }, 50);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolve({ code: code ?? (sig ? -1 : -2), stdout, stderr, signalled });
    });
  });
}

/** After a stop: the collection opens, checks clean, and is at the version the message named. */
async function assertAtReportedVersion(data: string, stderr: string): Promise<void> {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  const m = /^quarry: error: stopped by SIG(?:INT|TERM): (?:version (\d+) of collection "default" holds the (\d+) document\(s\) this run committed; no partly written document is visible|nothing was committed; collection "default" (?:has no version yet|stays at version (\d+)) and nothing partial is visible); run the same command again to finish/.exec(lines[0]);
  assert.ok(m, lines[0]);
  const list = await runCli(['versions', '--json', '--data', data]);
  if (m[1]) {
    assert.equal(list.code, 0, list.stderr);
    const { versions } = JSON.parse(list.stdout) as { versions: Array<{ version: number; documents: number; current: boolean }> };
    const current = versions.find((v) => v.current)!;
    assert.equal(current.version, Number(m[1]));
    assert.equal(current.documents, Number(m[2]));
    const info = JSON.parse((await runCli(['info', '--json', '--data', data])).stdout);
    assert.equal(info.documents, Number(m[2]));
    const check = await runCli(['check', '--data', data]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  } else if (list.code === 0) {
    assert.deepEqual(JSON.parse(list.stdout).versions, [], 'nothing committed: no version');
  }
}

test('SIGTERM during quarry index, after a commit: exit 143, one line naming the version, which is what the collection holds', async () => {
  const data = join(dir.path, 'term-data');
  const r = await indexAndSignal([many, '--data', data, '--model', INT8], 'SIGTERM', async () => (await liveDocuments(data)) > 0);
  assert.ok(r.signalled, `the run ended before it could be stopped: ${r.stdout}`);
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^quarry: error: stopped by SIGTERM: version 1 of collection "default" holds the \d+ document\(s\) this run committed/);
  await assertAtReportedVersion(data, r.stderr);
});

test('SIGINT (Ctrl-C) during quarry index: exit 130, one line saying what was committed, and the collection is readable at that version', async () => {
  const data = join(dir.path, 'int-data');
  const r = await indexAndSignal([many, '--data', data, '--model', INT8], 'SIGINT', async () => existsSync(join(data, 'default', 'manifest.json')));
  assert.ok(r.signalled, `the run ended before it could be stopped: ${r.stdout}`);
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stdout, '');
  await assertAtReportedVersion(data, r.stderr);
});

test('two quarry index runs racing on a new collection: one writes it, the other says it is being written by another process', async () => {
  const data = join(dir.path, 'race-data');
  const args = ['index', few, '--data', data, '--model', INT8, '--quiet'];
  const [a, b] = await Promise.all([runCli(args), runCli(args)]);
  const results = [a, b].sort((x, y) => x.code - y.code);
  assert.equal(results[0].code, 0, results[0].stderr);
  assert.match(results[0].stdout, /created collection "default".* 150 added/);
  assert.equal(results[1].code, 4, results[1].stderr);
  assert.match(results[1].stderr.trim(), /^quarry: error: collection "default" is being written by another process \(pid \d+/);
  assert.doesNotMatch(results[1].stderr, /not a quarry collection|already exists/);
});
