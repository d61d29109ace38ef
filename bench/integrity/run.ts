/**
 * `npm run bench:integrity`: what verifying a collection costs when a reader loads it (issue
 * 14). Builds, once, a quarry collection of the ANN benchmark's 175,432 Wikipedia passages from
 * its vector cache (no embedding: the vectors are the cached all-MiniLM-L6-v2 ones, written
 * in 256-passage batches as an ingest would), then on fresh read-only handles times:
 *
 * - SQLite's quick_check of meta.sqlite,
 * - sha256 of every live vector segment (streamed, as verifyForReading does),
 * - the finite / unit-length check of every row handed to the index,
 * - the whole CollectionSearcher.open (flat: verification + reading every vector).
 *
 * BENCH_INTEGRITY_LIMIT=20000 uses the first 20k passages. The page cache is warm (the files
 * were just read); a cold read adds the disk's time to both the load and the hash.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Collection } from '../../src/store/collection.js';
import { CollectionSearcher } from '../../src/store/collection-index.js';
import type { CollectionManifest } from '../../src/store/manifest.js';
import { isUnitRow, verifySegment } from '../../src/store/vector-segments.js';
import { CORPUS_PATH, benchCacheDir } from '../ann/paths.js';
import { loadVectors } from '../ann/vectors.js';
import { median, REPO_ROOT, writeMarkedSection } from '../support.js';

const LIMIT = Number(process.env.BENCH_INTEGRITY_LIMIT ?? 0) || undefined;
const BATCH = 256;
const RUNS = 3;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function build(dataDir: string, name: string): Promise<number> {
  const { data, rows, dims, meta } = loadVectors(LIMIT);
  const manifest: CollectionManifest = {
    format: 'quarry-collection',
    formatVersion: 1,
    name,
    createdAt: new Date().toISOString(),
    model: meta.model as CollectionManifest['model'],
    // never searched with a model here: the fingerprint is not checked by this benchmark
    fingerprint: { probeSet: 'bench', probes: ['p'], vectors: [Array.from(data.subarray(0, dims))] },
    chunking: { chunkTokens: 256, overlapTokens: 32 },
    index: { type: 'flat' },
  };
  await rm(join(dataDir, name), { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const c = await Collection.create(dataDir, name, manifest);
  const lines = readFileSync(CORPUS_PATH, 'utf8').split('\n');
  const embeddedWith = `${meta.model.id}:${meta.model.variant}@${meta.model.weightsSha256.slice(0, 12)}`;
  const gen = c.beginWrite();
  const now = new Date().toISOString();
  for (let i = 0; i < rows; i += BATCH) {
    const n = Math.min(BATCH, rows - i);
    const chunks = [];
    const publish = [];
    const vectors = [];
    for (let j = i; j < i + n; j++) {
      const p = JSON.parse(lines[j]) as { _id: string; title: string; text: string };
      chunks.push({ doc_id: p._id, doc_version: 1, seq: 0, text: p.text, start: 0, end: p.text.length, token_count: 0, text_hash: sha(p.text), embed_hash: sha(`${embeddedWith}\0${p.title}\n${p.text}`) });
      publish.push({ doc_id: p._id, version: 1, source: p._id, locator: null, format: 'jsonl', title: p.title, metadata: '{}', content_hash: sha(p.text), byte_length: p.text.length, chunk_count: 1, embedded_with: embeddedWith, chunking: 'bench', ingested_at: now });
      vectors.push(data.subarray(j * dims, (j + 1) * dims));
    }
    await c.writeBatch({ chunks, vectors, publish }, gen);
  }
  c.endWrite(gen, 'bench', 'integrity benchmark');
  await c.close();
  return rows;
}

async function main(): Promise<void> {
  const dataDir = join(benchCacheDir(), 'integrity-collections');
  const name = LIMIT ? `wiki-${LIMIT}` : 'wiki-175k';
  const marker = join(dataDir, `${name}.built.json`);
  let buildMs: number | null = null;
  if (!existsSync(marker)) {
    const t0 = performance.now();
    const rows = await build(dataDir, name);
    buildMs = performance.now() - t0;
    writeFileSync(marker, JSON.stringify({ rows, buildMs }));
    console.log(`built ${name}: ${rows} passages in ${(buildMs / 1000).toFixed(1)} s`);
  }
  const rows = (JSON.parse(readFileSync(marker, 'utf8')) as { rows: number }).rows;
  const loadBefore = loadavg();
  const quick: number[] = [];
  const hash: number[] = [];
  const streamed: number[] = [];
  const unit: number[] = [];
  const open: number[] = [];
  let vectorBytes = 0;
  let segments = 0;
  for (let run = 0; run < RUNS; run++) {
    const c = await Collection.open(dataDir, name, 'read');
    try {
      c.pinHead();
      let t = performance.now();
      c.db.quickCheck();
      quick.push(performance.now() - t);
      const segs = c.db.segments();
      segments = segs.length;
      vectorBytes = 0;
      // the exact reader hashes the bytes it has just read (loadVectors): time the hash alone
      let hashMs = 0;
      for (const s of segs) {
        const bytes = await readFile(join(c.paths.vectors, s.file));
        const t0 = performance.now();
        if (createHash('sha256').update(bytes).digest('hex') !== s.sha256) throw new Error(`${s.file} does not match its sha256`);
        hashMs += performance.now() - t0;
        vectorBytes += bytes.byteLength;
      }
      hash.push(hashMs);
      // an ANN reader streams every live segment through sha256 (its index holds the vectors)
      t = performance.now();
      for (const s of segs) await verifySegment(join(c.paths.vectors, s.file), s, name);
      streamed.push(performance.now() - t);
    } finally {
      await c.close();
    }
    const fresh = await Collection.open(dataDir, name, 'read');
    try {
      fresh.pinHead();
      const t = performance.now();
      await CollectionSearcher.open(fresh);
      open.push(performance.now() - t);
      const { matrix, ids } = await fresh.loadVectors();
      const dims = fresh.manifest.model.dims;
      const t2 = performance.now();
      let ok = 0;
      for (let r = 0; r < ids.length; r++) if (isUnitRow(matrix, r, dims)) ok++;
      unit.push(performance.now() - t2);
      if (ok !== ids.length) throw new Error(`${ids.length - ok} rows are not unit vectors`);
    } finally {
      await fresh.close();
    }
  }
  const dbBytes = (await stat(join(dataDir, name, 'meta.sqlite'))).size;
  const m = { quickCheckMs: median(quick), sha256Ms: median(hash), unitCheckMs: median(unit), searcherOpenMs: median(open), streamedVerifyMs: median(streamed) };
  const checks = m.quickCheckMs + m.sha256Ms + m.unitCheckMs;
  const result = {
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: { before: loadBefore, after: loadavg() },
    node: process.version,
    passages: rows,
    segments,
    vectorBytes,
    dbBytes,
    runs: RUNS,
    buildMs,
    ...m,
    checksMs: checks,
    checksShareOfOpen: checks / m.searcherOpenMs,
  };
  writeFileSync(join(REPO_ROOT, 'bench', 'results', `integrity${LIMIT ? `-${LIMIT}` : ''}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  if (!LIMIT) writeMarkedSection(join(REPO_ROOT, 'BENCHMARKS.md'), 'bench:integrity', section(result));
}

function section(r: { date: string; cpu: string; memoryGiB: number; node: string; loadAverage: { before: number[]; after: number[] }; passages: number; segments: number; vectorBytes: number; dbBytes: number; runs: number; quickCheckMs: number; sha256Ms: number; unitCheckMs: number; searcherOpenMs: number; checksMs: number; streamedVerifyMs: number }): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
  return [
    '## Integrity check at load: `npm run bench:integrity`',
    '',
    `Command: \`npm run bench:integrity\` (results: \`bench/results/integrity.json\`), run ${r.date}. Machine: ${r.cpu.replace(/ x(\d+)$/, ', $1 cores')}, ${r.memoryGiB} GiB RAM, Node ${r.node.replace(/^v/, '')}; load average (1/5/15 min) ${la(r.loadAverage.before)} before, ${la(r.loadAverage.after)} after (a shared machine: other work ran on the same cores, so every figure is inflated by it; the shares are the meaningful part).`,
    '',
    `The ANN benchmark's ${r.passages.toLocaleString('en-US')} Wikipedia passages written as a quarry collection (all-MiniLM-L6-v2 fp32 vectors from its cache, one chunk per passage, in ${r.segments} segments of 256 as an ingest writes them; flat index): ${mb(r.vectorBytes)} of vectors, ${mb(r.dbBytes)} meta.sqlite. What a reader now does before it answers, timed on fresh read-only handles, page cache warm, median of ${r.runs}:`,
    '',
    '| step (exact reader) | time |',
    '|---|---:|',
    `| SQLite \`quick_check\` of meta.sqlite | ${s(r.quickCheckMs)} |`,
    `| sha256 of every live segment (of the bytes the load reads anyway) | ${s(r.sha256Ms)} |`,
    `| finite / unit-length check of every vector | ${s(r.unitCheckMs)} |`,
    `| **the checks together** | **${s(r.checksMs)}** |`,
    `| the whole load (\`CollectionSearcher.open\`, flat: checks + reading ${r.passages.toLocaleString('en-US')} vectors into the index) | ${s(r.searcherOpenMs)} |`,
    `| (an ANN reader instead: every live segment read and hashed (streamed when over 16 MB), besides loading its index file) | ${s(r.streamedVerifyMs)} |`,
    '',
    `The checks are ${((100 * r.checksMs) / r.searcherOpenMs).toFixed(0)}% of the exact reader's load (the load without them: about ${s(r.searcherOpenMs - r.checksMs)}); sha256 runs at ${((r.vectorBytes / 1e6) / (r.sha256Ms / 1000)).toFixed(0)} MB/s here (SHA-NI). They run once per reader: once per CLI search, at the server's warm-up and at each reload after a write (a filtered search re-reading a segment within one reader does not hash it again). A cold page cache adds the disk's read time to the load and the hash alike. Per query, the only added work is the sha256 of the ~10 result texts shown. \`BENCH_INTEGRITY_LIMIT=20000\` measures the first 20k passages (\`bench/results/integrity-20000.json\`).`,
  ].join('\n');
}

await main();
