import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { check } from '../src/api/check.js';
import { search } from '../src/api/search.js';
import { CollectionCorruptError } from '../src/errors.js';
import { Collection } from '../src/store/collection.js';
import { onSegmentVerified } from '../src/store/vector-segments.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'support', 'crash-child.js');
const KILLS = 50;

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir('quarry-crash-');
});
after(async () => {
  await dir.cleanup();
});

/** A deterministic PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * Runs the child, kills it with SIGKILL `delayMs` after `from`: its "ready" (a kill anywhere, from
 * start-up on) or its first acknowledged commit (so that, however slow the machine, runs get
 * far enough to acknowledge documents); returns what it acknowledged.
 */
function runAndKill(dataDir: string, srcDir: string, delayMs: number, from: 'ready' | 'ack' = 'ready'): Promise<{ acks: Map<string, string>; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir, srcDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks = new Map<string, string>();
    let out = '';
    let err = '';
    let finished = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line === 'ready' && from === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        else if (line === 'done') finished = true;
        else if (line.startsWith('ack ')) {
          if (from === 'ack' && acks.size === 0) setTimeout(() => child.kill('SIGKILL'), delayMs);
          const [, hash, ...id] = line.split(' ');
          acks.set(id.join(' '), hash);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child exited with ${code}: ${err}`));
      else resolve({ acks, finished });
    });
  });
}

/** The segment files the live set's vectors are in (what a reader opened now reads). */
async function liveSegmentFiles(data: string): Promise<string[]> {
  const c = await Collection.open(data, 'crash', 'read');
  try {
    const used = new Set(c.db.liveVectorRefs().map((r) => r.segment));
    return c.db
      .segments()
      .filter((s) => used.has(s.id))
      .map((s) => s.file);
  } finally {
    await c.close();
  }
}

test(`SIGKILL during ingest, ${KILLS} times: the collection opens, checks clean, keeps every acknowledged document, answers searches only from verified segments and refuses damaged ones`, async () => {
  const src = join(dir.path, 'src');
  const data = join(dir.path, 'data');
  await mkdir(src);
  const rnd = prng(20261122);
  /**
   * For each acknowledged document, the versions it may legitimately hold: the acknowledged
   * one, and any written to its file since (a kill can fall between a commit and its ack, and
   * then that newer version is rightly live).
   */
  const allowed = new Map<string, Set<string>>();
  const write = async (i: number, round: number) => {
    const sentences = 3 + Math.floor(rnd() * 30);
    const path = join(src, `doc-${String(i).padStart(3, '0')}.txt`);
    const text = Array.from({ length: sentences }, (_, j) => `Round ${round}: document ${i}, sentence ${j} about subject ${(i * 7 + j) % 11}.`).join(' ');
    await writeFile(path, text);
    allowed.get(path)?.add(createHash('sha256').update(text).digest('hex'));
  };
  for (let i = 0; i < 120; i++) await write(i, 0);
  const probe = await HashEmbedder.create();
  /** The content each acknowledged document must have: the latest ack wins. */
  const mustHave = new Map<string, string>();
  let completedRuns = 0;
  let created = false;
  for (let k = 0; k < KILLS; k++) {
    const { acks, finished } = await runAndKill(data, src, Math.floor(rnd() * 400), rnd() < 0.5 ? 'ready' : 'ack');
    if (finished) completedRuns++;
    for (const [id, hash] of acks) {
      mustHave.set(id, hash);
      allowed.set(id, new Set([hash]));
    }

    const report = await check({ dataDir: data, collection: 'crash' }).catch((e: Error) => {
      // kills before the collection was ever created (on a slow machine, more than the first)
      // leave nothing to check
      if (!created && /does not exist/.test(e.message)) return null;
      throw e;
    });
    if (!report) continue;
    created = true;
    assert.deepEqual(report.problems, [], `kill ${k}: ${report.problems.join('; ')}`);
    const c = await Collection.open(data, 'crash', 'read');
    try {
      for (const id of mustHave.keys()) {
        const live = c.db.getDocument(id);
        assert.ok(live, `kill ${k}: acknowledged ${id} is missing`);
        assert.ok(allowed.get(id)!.has(live!.content_hash), `kill ${k}: ${id} holds a version that was never acknowledged nor written since`);
      }
    } finally {
      await c.close();
    }
    if (mustHave.size > 0) {
      // No answer is computed from unverified data: the search's reader hashes every segment
      // the live set's vectors are in (against the sha256 recorded at seal time) before it ranks.
      const liveFiles = await liveSegmentFiles(data);
      const verified = new Set<string>();
      const off = onSegmentVerified((v) => verified.add(basename(v.path)));
      try {
        const res = await search('document sentence subject', { dataDir: data, collection: 'crash', embedder: probe, k: 5 });
        assert.ok(res.results.length > 0, `kill ${k}: search answers`);
      } finally {
        off();
      }
      for (const f of liveFiles) assert.ok(verified.has(f), `kill ${k}: ${f} holds live vectors and was not verified before the answer`);
      if (k % 5 === 0 && liveFiles.length > 0) {
        // ...and damage after a kill is refused, never answered: on a copy, flip bytes in one live segment
        const copy = join(dir.path, `damaged-${k}`);
        await cp(data, copy, { recursive: true });
        const victim = join(copy, 'crash', 'vectors', liveFiles[Math.floor(rnd() * liveFiles.length)]);
        const bytes = await readFile(victim);
        bytes[Math.floor(rnd() * bytes.length)] ^= 0x10;
        await writeFile(victim, bytes);
        await assert.rejects(
          search('document sentence subject', { dataDir: copy, collection: 'crash', embedder: probe, k: 5 }),
          (e: unknown) => e instanceof CollectionCorruptError && e.message.includes(basename(victim)),
          `kill ${k}: a damaged segment is refused`,
        );
        await rm(copy, { recursive: true, force: true });
      }
    }
    // change some files so every run has work to do
    for (let j = 0; j < 15; j++) await write(Math.floor(rnd() * 120), k + 1);
  }
  assert.ok(mustHave.size >= 60, `enough documents were acknowledged across the kills (${mustHave.size})`);
  // After a last uninterrupted run, everything is there and clean.
  const last = await runAndKill(data, src, 60_000);
  assert.ok(last.finished);
  const final = await check({ dataDir: data, collection: 'crash' });
  assert.equal(final.ok, true, final.problems.join('; '));
  assert.equal(final.checked.documents, 120);
  void completedRuns;
});
