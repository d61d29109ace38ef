import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './support/cli.js';
import { CLI, tempDir } from './support/env.js';

let dir: { path: string; cleanup: () => Promise<void> };
let data: string;

before(async () => {
  dir = await tempDir('quarry-server-cli-');
  data = join(dir.path, 'data');
});

after(async () => {
  await dir.cleanup();
});

test('quarry keys create prints only the key; keys.json stores no plaintext; list and revoke', async () => {
  const created = await runCli(['keys', 'create', '--scope', 'read', '--collection', 'docs', '--collection', 'other', '--label', 'search app', '--data', data]);
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(created.stdout, /^qk_[0-9a-f]{12}_[0-9a-f]{64}\n$/, 'stdout is the key and nothing else');
  const id = key.split('_')[1];
  assert.match(created.stderr, new RegExp(`created key ${id} \\(read on docs, other\\)`));

  const file = join(data, 'keys.json');
  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes(key.split('_')[2]), 'the secret is not stored');
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  const list = await runCli(['keys', 'list', '--json', '--data', data]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(!list.stdout.includes(key.split('_')[2]));
  const keys = (JSON.parse(list.stdout) as { keys: Array<Record<string, unknown>> }).keys;
  assert.deepEqual(keys.map((k) => [k.id, k.scope, k.collections, k.label]), [[id, 'read', ['docs', 'other'], 'search app']]);
  const plain = await runCli(['keys', 'list', '--data', data]);
  assert.match(plain.stdout, new RegExp(`^${id}  read .* docs,other  search app\\n$`));

  const noCollection = await runCli(['keys', 'create', '--scope', 'admin', '--data', data]);
  assert.equal(noCollection.code, 2);
  assert.equal(noCollection.stdout, '');
  assert.match(noCollection.stderr, /--collection/);
  const badScope = await runCli(['keys', 'create', '--scope', 'root', '--collection', '*', '--data', data]);
  assert.equal(badScope.code, 2);
  const badName = await runCli(['keys', 'create', '--scope', 'read', '--collection', '../x', '--data', data]);
  assert.equal(badName.code, 2);

  assert.equal((await runCli(['keys', 'revoke', id, '--data', data])).code, 0);
  assert.equal((await runCli(['keys', 'revoke', id, '--data', data])).code, 3);
  assert.equal((await runCli(['keys', 'list', '--data', data])).stdout, 'no keys\n');
});

test('quarry serve listens, answers with a key, logs without it, and shuts down cleanly on SIGTERM', async () => {
  const key = (await runCli(['keys', 'create', '--scope', 'read', '--collection', '*', '--data', data])).stdout.trim();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out} ${err}`)), 20_000);
      const poll = setInterval(() => {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          clearInterval(poll);
          resolve(m[1]);
        }
      }, 20);
    });
    assert.equal((await fetch(`${address}/healthz`)).status, 200);
    // the bare readiness needs no key (probes); the list of collections is for admin and metrics keys
    const probe = await fetch(`${address}/readyz`);
    assert.equal(probe.status, 200);
    assert.deepEqual(await probe.json(), { ready: true });
    const ready = await fetch(`${address}/readyz`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
  assert.match(out, /"msg":"shutting down"/);
  assert.ok(!out.includes(key.split('_')[2]) && !err.includes(key.split('_')[2]), 'the key reached the log');
  const lines = out.split('\n').filter((l) => l.includes('"msg":"request"'));
  assert.equal(lines.length, 3);
  for (const l of lines) assert.match(l, /"reqId":"[0-9a-f-]{36}"/);
});
