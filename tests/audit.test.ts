import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createCollection, deleteCollection } from '../src/api/collections.js';
import { CollectionCorruptError, CollectionExistsError, CollectionNotFoundError, InvalidInputError } from '../src/errors.js';
import { appendAudit, audited, auditFileOf, defaultActor, readAudit, readAuditLog, type AuditEntry } from '../src/observe/audit.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/env.js';
import type { HashEmbedder } from './support/hash-embedder.js';
import { bearer, docs, HASH_MODEL, hashEmbedder, hashServer, json, key, seedCollection } from './support/server.js';

let dir: { path: string; cleanup: () => Promise<void> };
let embedder: HashEmbedder;
let n = 0;
/** A fresh data folder per test, so each reads only its own entries. */
const fresh = () => join(dir.path, `d${++n}`);

before(async () => {
  dir = await tempDir('quarry-audit-');
  embedder = await hashEmbedder();
});
after(async () => {
  await dir.cleanup();
});

test('appended entries read back in order, with filters; the file is the owner\'s only', async () => {
  const data = fresh();
  await appendAudit(data, { actor: 'key:aaaaaaaaaaaa', action: 'collection.create', target: 'docs', outcome: 'ok', detail: { model: 'm' } });
  await appendAudit(data, { actor: 'local:ops', action: 'promote', target: 'docs', outcome: 'refused', forced: false, error: { code: 'GATE_REFUSED', message: 'worse' } });
  await appendAudit(data, { actor: 'local:ops', action: 'promote', target: 'other', outcome: 'ok', forced: true });
  const all = await readAudit(data);
  assert.deepEqual(all.map((e) => [e.action, e.target, e.outcome]), [
    ['collection.create', 'docs', 'ok'],
    ['promote', 'docs', 'refused'],
    ['promote', 'other', 'ok'],
  ]);
  assert.deepEqual(all[0].detail, { model: 'm' });
  assert.equal(all[2].forced, true);
  assert.deepEqual(all[1].error, { code: 'GATE_REFUSED', message: 'worse' });
  for (const e of all) assert.ok(!Number.isNaN(Date.parse(e.time)) && e.time.endsWith('Z'), e.time);

  assert.deepEqual((await readAudit(data, { action: 'promote' })).map((e) => e.target), ['docs', 'other']);
  assert.deepEqual((await readAudit(data, { target: 'docs' })).map((e) => e.action), ['collection.create', 'promote']);
  assert.deepEqual((await readAudit(data, { limit: 2 })).map((e) => e.target), ['docs', 'other'], 'limit keeps the newest');
  assert.equal((await readAudit(data, { since: '2999-01-01' })).length, 0);
  assert.equal((await readAudit(data, { since: all[0].time })).length, 3);
  await assert.rejects(readAudit(data, { since: 'yesterday' }), InvalidInputError);
  await assert.rejects(readAudit(data, { action: 'key.steal' }), InvalidInputError);
  assert.deepEqual(await readAudit(join(dir.path, 'no-such-folder')), []);
  assert.equal((await stat(auditFileOf(data))).mode & 0o777, 0o600);

  // a full key in any field keeps its id and loses its secret
  const secretKey = `qk_${'a'.repeat(12)}_${'b'.repeat(64)}`;
  await appendAudit(data, { actor: 'local:ops', action: 'key.revoke', target: 'key:aaaaaaaaaaaa', outcome: 'failed', error: { code: 'X', message: `bad ${secretKey}` } });
  // even where a long message is cut right through the key
  await appendAudit(data, { actor: 'local:ops', action: 'key.revoke', target: 'key:aaaaaaaaaaaa', outcome: 'failed', error: { code: 'X', message: `${'x'.repeat(1980)}${secretKey}` } });
  const text = await readFile(auditFileOf(data), 'utf8');
  assert.ok(!text.includes('b'.repeat(8)), 'part of a secret is in the log');
  assert.equal(text.match(/qk_a{12}_\[r/g)?.length, 2, "both keys redacted (the second one cut after it)");
});

test('a torn last line is reported, not fatal; the next append starts on a line of its own', async () => {
  const data = fresh();
  await appendAudit(data, { actor: 'local:a', action: 'gc', target: 'docs', outcome: 'ok' });
  await appendFile(auditFileOf(data), '{"time":"2026-01-01T00:00:00.000Z","actor":"local:a","act');
  let r = await readAuditLog(data);
  assert.equal(r.entries.length, 1);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].line, 2);
  assert.match(r.problems[0].reason, /torn/);

  await appendAudit(data, { actor: 'local:b', action: 'rollback', target: 'docs', outcome: 'ok' });
  r = await readAuditLog(data);
  assert.deepEqual(r.entries.map((e) => e.actor), ['local:a', 'local:b'], 'the entry after the torn line is whole');
  assert.deepEqual(r.problems.map((p) => p.line), [2]);
});

test('two processes appending at once never interleave their entries', async () => {
  const data = fresh();
  const child = fileURLToPath(new URL('./support/audit-child.js', import.meta.url));
  const run = (tag: string) =>
    new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, [child, data, tag, '150'], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('error', reject);
      p.on('close', (code) => resolve(code ?? -1));
    });
  assert.deepEqual(await Promise.all([run('x'), run('yz')]), [0, 0]);
  const text = await readFile(auditFileOf(data), 'utf8');
  assert.ok(text.endsWith('\n'));
  // A writer that reads the end of the file while the other's write is still landing ends
  // what looks like a torn line: an empty line at worst, which readers skip.
  const lines = text.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 300);
  const seen: Record<string, number[]> = { x: [], yz: [] };
  for (const l of lines) {
    const e = JSON.parse(l) as AuditEntry; // throws on an interleaved line
    const tag = e.target;
    assert.equal((e.detail as { filler: string }).filler, tag.repeat(6000).slice(0, 6000));
    seen[tag].push((e.detail as { seq: number }).seq);
  }
  const upTo = Array.from({ length: 150 }, (_, i) => i);
  assert.deepEqual(seen.x, upTo);
  assert.deepEqual(seen.yz, upTo);
  const r = await readAuditLog(data);
  assert.equal(r.entries.length, 300);
  assert.deepEqual(r.problems, []);
});

test('audited(): ok, refused (invalid input, conflict, not found) or failed; returns or rethrows the same thing', async () => {
  const data = fresh();
  const r = await audited(data, { action: 'gc', target: 'docs', detail: (x: { removed: number }) => ({ removed: x.removed }) }, async () => ({ removed: 3 }));
  assert.deepEqual(r, { removed: 3 });
  const cases: Array<[Error, string]> = [
    [new InvalidInputError('no'), 'refused'],
    [new CollectionExistsError('docs', data), 'refused'],
    [new CollectionNotFoundError('docs', data), 'refused'],
    [new CollectionCorruptError('docs', 'broken'), 'failed'],
    [new TypeError('a bug'), 'failed'],
  ];
  for (const [err, _] of cases) {
    await assert.rejects(
      audited(data, { action: 'reindex', target: 'docs', forced: true, detail: { model: 'm' } }, async () => {
        throw err;
      }),
      (e) => e === err,
    );
  }
  const entries = await readAudit(data);
  assert.equal(entries.length, 1 + cases.length);
  assert.deepEqual(entries[0], { time: entries[0].time, actor: defaultActor(), action: 'gc', target: 'docs', outcome: 'ok', detail: { removed: 3 } });
  assert.match(defaultActor(), /^local(:.+)?$/);
  entries.slice(1).forEach((e, i) => {
    assert.equal(e.outcome, cases[i][1], cases[i][0].name);
    assert.equal(e.forced, true);
    assert.deepEqual(e.detail, { model: 'm' });
    assert.equal(e.error?.message, cases[i][0].message);
  });
  assert.equal(entries[1].error?.code, 'INVALID_INPUT');
  assert.equal(entries[5].error?.code, 'INTERNAL');
});

test('creating and deleting a collection through the library is recorded with its actor and outcome', async () => {
  const data = fresh();
  await createCollection({ dataDir: data, collection: 'lib', embedder, actor: 'key:0123456789ab' });
  await assert.rejects(createCollection({ dataDir: data, collection: 'lib', embedder }), CollectionExistsError);
  await deleteCollection({ dataDir: data, collection: 'lib' });
  await assert.rejects(deleteCollection({ dataDir: data, collection: 'lib' }), CollectionNotFoundError);
  const e = await readAudit(data);
  assert.deepEqual(e.map((x) => [x.actor, x.action, x.target, x.outcome]), [
    ['key:0123456789ab', 'collection.create', 'lib', 'ok'],
    [defaultActor(), 'collection.create', 'lib', 'refused'],
    [defaultActor(), 'collection.delete', 'lib', 'ok'],
    [defaultActor(), 'collection.delete', 'lib', 'refused'],
  ]);
  assert.equal((e[0].detail as { model: string }).model.startsWith(HASH_MODEL), true);
  assert.equal(e[1].error?.code, 'COLLECTION_EXISTS');
});

test('quarry keys create/revoke are recorded without the key; quarry audit shows them after a restart', async () => {
  const data = fresh();
  const created = await runCli(['keys', 'create', '--scope', 'write', '--collection', 'docs', '--label', 'ci', '--data', data]);
  assert.equal(created.code, 0, created.stderr);
  const k = created.stdout.trim();
  const id = k.split('_')[1];
  const noColl = await runCli(['keys', 'create', '--scope', 'read', '--data', data]);
  assert.equal(noColl.code, 2);
  const revoked = await runCli(['keys', 'revoke', id, '--data', data]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const again = await runCli(['keys', 'revoke', id, '--data', data]);
  assert.equal(again.code, 3);

  const text = await readFile(auditFileOf(data), 'utf8');
  assert.ok(!text.includes(k), 'the key is in the audit log');
  assert.ok(!text.includes(k.split('_')[2]), "the key's secret is in the audit log");

  // read by this process, after the processes that wrote them have exited
  const e = await readAudit(data);
  assert.deepEqual(e.map((x) => [x.action, x.target, x.outcome]), [
    ['key.create', `key:${id}`, 'ok'],
    ['key.create', 'key:(not created)', 'refused'],
    ['key.revoke', `key:${id}`, 'ok'],
    ['key.revoke', `key:${id}`, 'refused'],
  ]);
  assert.deepEqual(e[0].detail, { id, scope: 'write', collections: ['docs'], label: 'ci' });
  assert.deepEqual(e[2].detail, { id, scope: 'write', collections: ['docs'], label: 'ci' });
  assert.equal(e[3].error?.code, 'KEY_NOT_FOUND');
  for (const x of e) assert.equal(x.actor, defaultActor());

  const table = await runCli(['audit', '--data', data]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^time\s+actor\s+action\s+target\s+outcome\s+forced\s+detail$/);
  assert.equal(lines.length, 5);
  assert.match(lines[1], new RegExp(`key\\.create\\s+key:${id}\\s+ok\\s+id=${id} scope=write collections=\\["docs"\\]`));
  assert.match(lines[4], /key\.revoke .*refused\s+KEY_NOT_FOUND: no key/);

  const filtered = await runCli(['audit', '--data', data, '--action', 'key.revoke', '--collection', `key:${id}`, '--limit', '1', '--json']);
  assert.equal(filtered.code, 0, filtered.stderr);
  const out = JSON.parse(filtered.stdout) as { entries: AuditEntry[]; problems: unknown[] };
  assert.deepEqual(out.entries.map((x) => x.outcome), ['refused']);
  assert.deepEqual(out.problems, []);

  const bad = await runCli(['audit', '--data', data, '--since', 'last week']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /since must be an ISO 8601 date/);

  await appendFile(auditFileOf(data), '{"torn');
  const torn = await runCli(['audit', '--data', data, '--action', 'key.create']);
  assert.equal(torn.code, 0);
  assert.match(torn.stderr, /warning: .*audit\.log line 5: not valid JSON/);
  assert.equal(torn.stdout.trimEnd().split('\n').length, 3);
});

test('over HTTP: create and delete are recorded with the key as actor; GET /audit for admins, filtered and validated', async () => {
  const data = fresh();
  await seedCollection(data, 'docs', embedder, docs('a', 2, 'heron'));
  const all = await key(data, 'admin', ['*']);
  const docsAdmin = await key(data, 'admin', ['docs', 'made']);
  const reader = await key(data, 'read', ['*']);
  const app: FastifyInstance = await hashServer(data, embedder);
  await app.ready();
  try {
    const created = await app.inject({ method: 'POST', url: '/collections', headers: bearer(docsAdmin), payload: { name: 'made', model: HASH_MODEL } });
    assert.equal(created.statusCode, 201, created.body);
    const dup = await app.inject({ method: 'POST', url: '/collections', headers: bearer(docsAdmin), payload: { name: 'made', model: HASH_MODEL } });
    assert.equal(dup.statusCode, 409);
    const del = await app.inject({ method: 'DELETE', url: '/collections/made', headers: bearer(docsAdmin) });
    assert.equal(del.statusCode, 200, del.body);
    await appendAudit(data, { actor: 'local:ops', action: 'key.create', target: 'key:0123456789ab', outcome: 'ok' });
    await appendAudit(data, { actor: 'local:ops', action: 'gc', target: 'elsewhere', outcome: 'ok' });

    const actor = `key:${docsAdmin.split('_')[1]}`;
    const res = await app.inject({ method: 'GET', url: '/audit', headers: bearer(all) });
    assert.equal(res.statusCode, 200, res.body);
    const body = json<{ entries: AuditEntry[]; problems: unknown[] }>(res);
    assert.deepEqual(body.entries.map((e) => [e.actor, e.action, e.target, e.outcome]), [
      // the seed: a collection made by its first ingest, through the library
      [defaultActor(), 'collection.create', 'docs', 'ok'],
      [actor, 'collection.create', 'made', 'ok'],
      [actor, 'collection.create', 'made', 'refused'],
      [actor, 'collection.delete', 'made', 'ok'],
      ['local:ops', 'key.create', 'key:0123456789ab', 'ok'],
      ['local:ops', 'gc', 'elsewhere', 'ok'],
    ]);
    assert.ok(!JSON.stringify(body).includes(docsAdmin.split('_')[2]), 'a secret in the answer');

    // a key for some collections sees their entries only, never the keys'
    const mine = json<{ entries: AuditEntry[] }>(await app.inject({ method: 'GET', url: '/audit', headers: bearer(docsAdmin) }));
    assert.deepEqual(mine.entries.map((e) => e.target), ['docs', 'made', 'made', 'made']);

    const q = json<{ entries: AuditEntry[] }>(await app.inject({ method: 'GET', url: '/audit?action=collection.create&target=made&limit=1', headers: bearer(all) }));
    assert.deepEqual(q.entries.map((e) => e.outcome), ['refused']);

    assert.equal((await app.inject({ method: 'GET', url: '/audit', headers: bearer(reader) })).statusCode, 403);
    for (const [qs, field] of [
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['action=key.steal', 'action'],
      ['since=yesterday', 'since'],
      ['bogus=1', 'bogus'],
    ]) {
      const r = await app.inject({ method: 'GET', url: `/audit?${qs}`, headers: bearer(all) });
      assert.equal(r.statusCode, 400, `${qs}: ${r.body}`);
      assert.equal(json<{ error: { code: string; field?: string } }>(r).error.field, field, qs);
    }
  } finally {
    await app.close();
  }
});
