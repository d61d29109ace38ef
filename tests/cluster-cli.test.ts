/**
 * `quarry cluster up | status | down` for real: one 1-node cluster for the whole file (started in
 * `before`, stopped in `after`), used through the official client the way the store backend will.
 * The first run on a machine also assembles OpenSearch from Maven Central (about 30-60 s, then
 * cached in ~/.cache/quarry); a 1-node start takes about 15-20 s on two cores.
 */
import { Client } from '@opensearch-project/opensearch';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findOnPath } from '../src/cluster/tools.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/env.js';

interface Status {
  running: boolean;
  store: string;
  nodes: Array<{ name: string; pid: number | null; alive: boolean; http: string; clusterManager: boolean | null }>;
  health: { status: string; nodes: number } | null;
}

let tmp: { path: string; cleanup: () => Promise<void> };
let clusterDir: string;
let port: number;
let store: string;

/** A base port whose HTTP and transport ports (port, port+100) are free: other clusters may run on 9201. */
async function freeBasePort(): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 9000);
    if ((await canListen(p)) && (await canListen(p + 100))) return p;
  }
}

function canListen(p: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** Gone, or a zombie: the JVM outlives the CLI that started it, and this machine's init may not reap it. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

before(async () => {
  tmp = await tempDir('quarry-cluster-test-');
  clusterDir = join(tmp.path, 'cluster');
  port = await freeBasePort();
  const started = Date.now();
  const up = await runCli(['cluster', 'up', '--dir', clusterDir, '--nodes', '1', '--port', String(port), '--heap', '512m', '--timeout', '300']);
  assert.equal(up.code, 0, up.stderr);
  store = up.stdout.trim();
  process.stderr.write(`# cluster up took ${((Date.now() - started) / 1000).toFixed(1)} s: ${up.stderr.trim().split('\n').at(-1)}\n`);
});

after(async () => {
  // Whatever failed above, no JVM is left running.
  await runCli(['cluster', 'down', '--dir', clusterDir]);
  await tmp.cleanup();
});

test('up prints the store URL; status --json lists the one node alive with its pid, and health green', async () => {
  assert.equal(store, `opensearch://127.0.0.1:${port}`);
  const res = await runCli(['cluster', 'status', '--dir', clusterDir, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const s = JSON.parse(res.stdout) as Status;
  assert.equal(s.running, true);
  assert.equal(s.store, store);
  assert.equal(s.nodes.length, 1);
  const [n1] = s.nodes;
  assert.equal(n1.name, 'n1');
  assert.equal(n1.alive, true);
  assert.ok(typeof n1.pid === 'number' && !processGone(n1.pid));
  assert.equal(n1.http, `http://127.0.0.1:${port}`);
  assert.equal(n1.clusterManager, true);
  // Green: the fresh cluster has no index, so every shard (none) is assigned. On one node an index
  // with a replica would stay yellow (a replica never goes on its primary's node); the test index has none.
  assert.deepEqual([s.health?.status, s.health?.nodes], ['green', 1]);
});

test('up again reuses the running node', async () => {
  const again = await runCli(['cluster', 'up', '--dir', clusterDir]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), store);
  assert.match(again.stderr, /already running: n1/);
});

test('the cluster serves BM25 on a text field and k-NN on a lucene knn_vector, through the official client', async () => {
  const client = new Client({ node: `http://127.0.0.1:${port}` });
  try {
    const index = 'quarry-cluster-test';
    await client.indices.create({
      index,
      body: {
        settings: { index: { knn: true, number_of_shards: 1, number_of_replicas: 0 } },
        mappings: {
          properties: {
            text: { type: 'text' },
            // engine lucene: the Maven Central k-NN zip has no Faiss/nmslib native libraries.
            vector: { type: 'knn_vector', dimension: 3, method: { name: 'hnsw', engine: 'lucene', space_type: 'l2' } },
          },
        },
      },
    });
    await client.index({ index, id: 'parcel', body: { text: 'The parcel left the Hamburg warehouse on Monday', vector: [1, 0, 0] } });
    await client.index({ index, id: 'volcano', body: { text: 'Krakatoa erupted in 1883, a volcano heard far away', vector: [0, 1, 0] } });
    await client.indices.refresh({ index });

    const bm25 = await client.search({ index, body: { query: { match: { text: 'volcano eruption' } } } });
    assert.deepEqual(bm25.body.hits.hits.map((h) => h._id), ['volcano']);
    const knn = await client.search({ index, body: { size: 2, query: { knn: { vector: { vector: [0.9, 0.1, 0], k: 2 } } } } });
    assert.deepEqual(knn.body.hits.hits.map((h) => h._id), ['parcel', 'volcano']);

    const health = await client.cluster.health();
    assert.equal(health.body.status, 'green');
  } finally {
    await client.close();
  }
});

test('up names the busy port when another process holds it, and starts nothing', async () => {
  const busy = await freeBasePort();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(busy, '127.0.0.1', () => r()));
  try {
    const dir = join(tmp.path, 'busy');
    const res = await runCli(['cluster', 'up', '--dir', dir, '--port', String(busy)]);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, new RegExp(`port ${busy} on 127\\.0\\.0\\.1 \\(the HTTP port of node n1\\) is already in use`));
    assert.equal(existsSync(join(dir, 'nodes', 'n1', 'pid')), false);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a node that dies while starting: up fails with its log path and the reason (exit 6)', async () => {
  const dir = join(tmp.path, 'dies');
  // 4 MB of heap: the JVM runs out of memory loading OpenSearch's classes.
  const res = await runCli(['cluster', 'up', '--dir', dir, '--port', String(await freeBasePort()), '--heap', '4m']);
  assert.equal(res.code, 6, res.stderr);
  assert.match(res.stderr, new RegExp(`node n1 exited while starting; its log is ${join(dir, 'nodes', 'n1', 'logs', 'opensearch.log')}, which ends with:`));
  assert.match(res.stderr, /OutOfMemoryError: Java heap space/);
  assert.doesNotMatch(res.stderr, /^\s+at /m);
  assert.equal(existsSync(join(dir, 'nodes', 'n1', 'pid')), false);
});

test('up without java says how to install it (exit 3) and creates nothing', async () => {
  const emptyBin = join(tmp.path, 'empty-bin');
  await mkdir(emptyBin);
  const dir = join(tmp.path, 'no-java');
  const res = await runCli(['cluster', 'up', '--dir', dir], { PATH: emptyBin, JAVA_HOME: '' });
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /java was not found \(not on PATH, and JAVA_HOME is not set\)/);
  assert.match(res.stderr, /apt-get install openjdk-17-jre-headless/);
  assert.equal(existsSync(dir), false);
});

test('a Java other than 17 to 21 is refused with its version (exit 3)', async () => {
  const bin = join(tmp.path, 'java11-bin');
  await mkdir(bin);
  writeFileSync(join(bin, 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n');
  chmodSync(join(bin, 'java'), 0o755);
  const res = await runCli(['cluster', 'up', '--dir', join(tmp.path, 'java11')], { PATH: bin, JAVA_HOME: '' });
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /java11-bin\/java is Java 11; OpenSearch 2\.19\.1 runs on Java 17 to 21/);
});

test('a folder keeps its shape; a folder without a cluster is named', async () => {
  const other = await runCli(['cluster', 'up', '--dir', clusterDir, '--nodes', '3']);
  assert.equal(other.code, 4, other.stderr);
  assert.match(other.stderr, /holds a cluster with 1 node\(s\), not 3/);
  const none = await runCli(['cluster', 'status', '--dir', join(tmp.path, 'nothing-here')]);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /no cluster in .*nothing-here; start one with `quarry cluster up --dir/);
});

test('up without mvn, when nothing is assembled yet, says how to install it (exit 3)', async () => {
  const bin = join(tmp.path, 'java-only-bin');
  await mkdir(bin);
  symlinkSync(findOnPath('java') ?? '/usr/bin/java', join(bin, 'java'));
  const res = await runCli(['cluster', 'up', '--dir', join(tmp.path, 'no-mvn'), '--cache', join(tmp.path, 'empty-cache')], { PATH: bin, JAVA_HOME: '' });
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /mvn was not found on PATH/);
  assert.match(res.stderr, /apt-get install maven/);
});

test('down stops the node: its pid is gone and status says not running', async () => {
  const before = JSON.parse((await runCli(['cluster', 'status', '--dir', clusterDir, '--json'])).stdout) as Status;
  const pid = before.nodes[0].pid as number;
  const down = await runCli(['cluster', 'down', '--dir', clusterDir]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, new RegExp(`n1: stopped \\(pid ${pid}\\)`));
  assert.ok(processGone(pid), `pid ${pid} still runs`);
  assert.equal(existsSync(join(clusterDir, 'nodes', 'n1', 'pid')), false);
  const after = JSON.parse((await runCli(['cluster', 'status', '--dir', clusterDir, '--json'])).stdout) as Status;
  assert.equal(after.running, false);
  assert.deepEqual(after.nodes.map((n) => [n.alive, n.pid]), [[false, null]]);
  assert.equal(after.health, null);
});
