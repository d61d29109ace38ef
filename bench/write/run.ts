/**
 * `npm run bench:write`: what a one-document upsert costs in a large collection (issue 15,
 * "writes that cost what changed"), embedding excluded. For 20,000 and all 175,432 Wikipedia
 * passages, with the product's default index (flat) and HNSW, it builds a collection once
 * (cached under bench/.cache/write, gitignored: vectors from a fast stand-in embedder, written
 * in 256-passage batches as an ingest would, then the BM25 and ANN indexes built), then times
 * `upsertDocuments` of one new document through the whole write path (writer lock, model
 * fingerprint check, chunking, segment + SQLite commit, version seal, ANN and BM25 upkeep),
 * minus the stand-in's own embedding time. Goal: median <= 50 ms, not growing with size.
 *
 * Then one catch-up write: enough new documents for the saved ANN / BM25 files to be rewritten
 * (what the small writes put off). It also times a selective filtered vector search (a metadata filter matching ~0.1% of the
 * passages) on a fresh reader, after a warm-up query.
 *
 * BENCH_WRITE_SIZES=20000 runs one size; BENCH_WRITE_RUNS (default 31) upserts per collection.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { computeFingerprint } from '../../src/embed/probes.js';
import { resolveModel } from '../../src/embed/models/index.js';
import { ModelTokenizer } from '../../src/embed/tokenizer.js';
import { upsertDocuments } from '../../src/api/upsert-documents.js';
import { Collection } from '../../src/store/collection.js';
import { annDeferLimit, readAnnState, updateSearchIndexes, type AnnState } from '../../src/store/collection-index.js';
import { lexicalDeferLimit, readLexicalState, type LexicalState } from '../../src/store/collection-lexical.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type IndexSettings } from '../../src/store/manifest.js';
import { LocalReader } from '../../src/store/local/local-reader.js';
import { parseFilter } from '../../src/retrieve/filter/tree.js';
import { CORPUS_PATH } from '../ann/paths.js';
import { median, REPO_ROOT, writeMarkedSection } from '../support.js';
import { StandInEmbedder } from './stand-in-embedder.js';

const SIZES = (process.env.BENCH_WRITE_SIZES ?? '20000,175432').split(',').map(Number);
const RUNS = Number(process.env.BENCH_WRITE_RUNS ?? 31);
const BATCH = 256;
const CACHE = join(REPO_ROOT, 'bench', '.cache', 'write');
const INDEXES: Array<{ label: string; settings: IndexSettings }> = [
  { label: 'flat (default)', settings: { type: 'flat' } },
  { label: 'hnsw', settings: { type: 'hnsw' } },
];
/** Passages per metadata bucket value: a filter on one bucket matches ~0.1% of the collection. */
const BUCKETS = 1000;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Passage {
  _id: string;
  title: string;
  text: string;
}

function passages(limit: number): Passage[] {
  const out: Passage[] = [];
  for (const line of readFileSync(CORPUS_PATH, 'utf8').split('\n')) {
    if (out.length === limit) break;
    if (line.trim()) out.push(JSON.parse(line) as Passage);
  }
  return out;
}

/** Writes the passages as one version, the way an ingest's batches commit, then builds the indexes. */
async function build(dataDir: string, name: string, index: IndexSettings, embedder: StandInEmbedder, docs: Passage[]): Promise<number> {
  const t0 = performance.now();
  await rm(join(dataDir, name), { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const m = embedder.identity;
  const c = await Collection.create(dataDir, name, {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION,
    name,
    createdAt: new Date().toISOString(),
    model: m,
    fingerprint: await computeFingerprint(embedder),
    chunking: { chunkTokens: 256, overlapTokens: 32 },
    index,
  });
  try {
    const embeddedWith = `${m.id}:${m.variant}@${m.weightsSha256.slice(0, 12)}`;
    const chunking = JSON.stringify({ chunkTokens: 256, overlapTokens: 32 });
    const gen = c.beginWrite();
    const now = new Date().toISOString();
    for (let i = 0; i < docs.length; i += BATCH) {
      const block = docs.slice(i, i + BATCH);
      const chunks = block.map((p) => ({
        doc_id: p._id,
        doc_version: 1,
        seq: 0,
        text: p.text,
        start: 0,
        end: p.text.length,
        token_count: 0,
        text_hash: sha(p.text),
        embed_hash: sha(`${embeddedWith}\0${p.title}\n${p.text}`),
      }));
      const publish = block.map((p, j) => ({
        doc_id: p._id,
        version: 1,
        source: p._id,
        locator: null,
        format: 'record',
        title: p.title,
        metadata: JSON.stringify({ bucket: (i + j) % BUCKETS }),
        content_hash: sha(p.text),
        byte_length: Buffer.byteLength(p.text),
        chunk_count: 1,
        embedded_with: embeddedWith,
        chunking,
        ingested_at: now,
      }));
      const vectors = await embedder.embed(block.map((p) => `${p.title}\n${p.text}`));
      await c.writeBatch({ chunks, vectors, publish, texts: block.map((p) => ({ doc_id: p._id, doc_version: 1, seq: 0, offset: 0, text: p.text })) }, gen);
    }
    c.endWrite(gen, 'bench', 'write benchmark');
    await updateSearchIndexes(c);
  } finally {
    await c.close();
  }
  return performance.now() - t0;
}

interface Row {
  passages: number;
  index: string;
  buildMs: number;
  upsertMs: number[];
  medianMs: number;
  maxMs: number;
  /** Median CPU time (user + system) of the process per upsert, embedding excluded. */
  cpuMedianMs: number;
  /** Documents and time of the write that brought the saved index files up to date. */
  catchUpDocs: number;
  catchUpMs: number;
  /** A fresh reader's load of both indexes with the saved files lagging by a defer limit, and caught up. */
  readerAtLimitMs: number;
  readerCaughtUpMs: number;
  /** The vector search among a filter's matches, and (apart) the SQL that finds the matches. */
  filteredSearchMs: number;
  filterSqlMs: number;
  after: { ann: AnnState | null; lexical: LexicalState | null };
}

/** Upserts `n` new documents; returns the wall and CPU (user + system) time minus the stand-in's embedding. */
async function upsert(dataDir: string, name: string, embedder: StandInEmbedder, tag: string, n: number): Promise<{ ms: number; cpuMs: number }> {
  const docs = Array.from({ length: n }, (_, i) => ({
    id: `bench-${tag}-${i}`,
    title: 'Benchmark document',
    text: `One new passage, number ${i} of ${tag}, written into a large collection to time what an upsert costs.`,
    metadata: { bucket: -1 },
  }));
  embedder.ms = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await upsertDocuments(docs, { dataDir, collection: name, embedder });
  const ms = performance.now() - t0 - embedder.ms;
  const cpu = process.cpuUsage(cpu0);
  if (report.documentsAdded !== n) throw new Error(`upsert ${tag} added ${report.documentsAdded} documents, not ${n}`);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 - embedder.ms };
}

/**
 * One-document upserts into every collection in turn, round after round: on a shared machine
 * whose load comes and goes, each size sees the same moments, so their ratio is fair.
 */
async function timeUpserts(dataDir: string, names: string[], embedder: StandInEmbedder): Promise<Map<string, { ms: number[]; cpuMs: number[] }>> {
  const stamp = Date.now().toString(36);
  const out = new Map(names.map((n) => [n, { ms: [] as number[], cpuMs: [] as number[] }]));
  // untimed: the first write-open of a collection built by an older quarry adds its indexes,
  // and files left lagging by an earlier run are brought up to date (one write past every
  // limit), so the timed upserts start from the same place each run
  for (const name of names) {
    const behind = await lag(dataDir, name);
    await upsert(dataDir, name, embedder, `${stamp}-warm`, behind.some((l) => l.pending > 0) ? Math.max(...behind.map((l) => l.left)) + 1 : 1);
  }
  for (let i = 0; i < RUNS; i++) {
    for (const name of names) {
      const t = await upsert(dataDir, name, embedder, `${stamp}-${i}`, 1);
      out.get(name)!.ms.push(t.ms);
      out.get(name)!.cpuMs.push(t.cpuMs);
    }
  }
  return out;
}

/** Per saved file (BM25, and ANN where there is one): changes it lacks, and how many more it can go without before it is rewritten. */
async function lag(dataDir: string, name: string): Promise<Array<{ pending: number; left: number }>> {
  const c = await Collection.open(dataDir, name, 'read');
  try {
    const ann = readAnnState(c);
    const lex = readLexicalState(c);
    return [
      ...(lex ? [{ pending: lex.pendingChanges ?? 0, left: lexicalDeferLimit(lex.documents) - (lex.pendingChanges ?? 0) }] : []),
      ...(ann && !ann.fallback ? [{ pending: ann.pendingChanges ?? 0, left: annDeferLimit(ann.vectors) - (ann.pendingChanges ?? 0) }] : []),
    ];
  } finally {
    await c.close();
  }
}

/** Changes the saved files can still go without before the first of them is rewritten. */
async function headroom(dataDir: string, name: string): Promise<number> {
  return Math.min(...(await lag(dataDir, name)).map((l) => l.left));
}

/** Median of 3 fresh readers' load of both indexes (verification, files, catch-up with pending changes). */
async function readerOpenMs(dataDir: string, name: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const reader = await LocalReader.open(dataDir, name);
    await reader.warm({ vector: true, lexical: true });
    times.push(performance.now() - t0);
    await reader.close();
  }
  return median(times);
}

async function measure(dataDir: string, name: string, embedder: StandInEmbedder, size: number, label: string, times: { ms: number[]; cpuMs: number[] }): Promise<Omit<Row, 'buildMs'>> {
  const stamp = Date.now().toString(36);
  const upsertMs = times.ms;
  // What deferring costs a reader: a fresh reader's load (vectors and BM25) with as many changes
  // pending as the saved files may lack (up to the first defer limit), then with none.
  const fill = await headroom(dataDir, name);
  if (fill > 0) await upsert(dataDir, name, embedder, `${stamp}-fill`, fill);
  const readerAtLimitMs = await readerOpenMs(dataDir, name);
  // The one-document write that pays for what the small writes before it put off: past the
  // limit, it rewrites the saved file (HNSW's for hnsw, BM25's for flat).
  const catchUpDocs = (await headroom(dataDir, name)) + 1;
  const catchUpMs = (await upsert(dataDir, name, embedder, `${stamp}-catch-up`, catchUpDocs)).ms;
  const readerCaughtUpMs = await readerOpenMs(dataDir, name);
  // a selective filtered search on a fresh reader (as a CLI search opens one), after one warm-up query
  const reader = await LocalReader.open(dataDir, name);
  let filteredSearchMs: number;
  let filterSqlMs: number;
  try {
    const filter = reader.prepareFilter(parseFilter({ bucket: 7 }));
    const q = await embedder.embedQuery('history of the city');
    await reader.searchVectors(q, 10, { filter });
    const times: number[] = [];
    const sql: number[] = [];
    for (let i = 0; i < 5; i++) {
      const f = reader.prepareFilter(parseFilter({ bucket: 8 + i }));
      // the filter's matching ids first (SQLite over the documents' metadata), then the vector search among them
      let t0 = performance.now();
      await reader.filterChunks(f);
      sql.push(performance.now() - t0);
      t0 = performance.now();
      const hits = await reader.searchVectors(q, 10, { filter: f });
      times.push(performance.now() - t0);
      if (hits.length !== 10) throw new Error(`filtered search found ${hits.length} hits`);
    }
    filteredSearchMs = median(times);
    filterSqlMs = median(sql);
  } finally {
    await reader.close();
  }
  const c = await Collection.open(dataDir, name, 'read');
  const after = { ann: readAnnState(c), lexical: readLexicalState(c) };
  await c.close();
  const r = { passages: size, index: label, upsertMs, medianMs: median(upsertMs), maxMs: Math.max(...upsertMs), cpuMedianMs: median(times.cpuMs), catchUpDocs, catchUpMs, readerAtLimitMs, readerCaughtUpMs, filteredSearchMs, filterSqlMs, after };
  console.log(`${label} ${size}: upsert median ${r.medianMs.toFixed(1)} ms (max ${r.maxMs.toFixed(1)}, CPU ${r.cpuMedianMs.toFixed(1)}), catch-up of ${catchUpDocs} docs ${catchUpMs.toFixed(0)} ms, reader load ${readerAtLimitMs.toFixed(0)} ms at the limit / ${readerCaughtUpMs.toFixed(0)} ms caught up, filtered search ${filteredSearchMs.toFixed(1)} ms + filter SQL ${filterSqlMs.toFixed(1)} ms; ${JSON.stringify(after)}`);
  return r;
}

async function main(): Promise<void> {
  const model = await resolveModel('sentence-transformers/all-MiniLM-L6-v2');
  const embedder = new StandInEmbedder(await ModelTokenizer.load(model.tokenizerPath, model.spec.maxSeqLength));
  const loadBefore = loadavg();
  const rows: Row[] = [];
  const collections = SIZES.flatMap((size) => INDEXES.map(({ label, settings }) => ({ size, label, settings, name: `wiki-${size}-${settings.type}` })));
  const buildMs = new Map<string, number>();
  for (const { size, settings, name } of collections) {
    const marker = join(CACHE, `${name}.built.json`);
    if (!existsSync(marker)) {
      // read only to build: the passages would otherwise sit in the heap every upsert's full GC walks (sqlite.ts close)
      const ms = await build(CACHE, name, settings, embedder, passages(size));
      writeFileSync(marker, JSON.stringify({ passages: size, buildMs: ms }));
      console.log(`built ${name} in ${(ms / 1000).toFixed(1)} s`);
    }
    buildMs.set(name, (JSON.parse(readFileSync(marker, 'utf8')) as { buildMs: number }).buildMs);
  }
  const times = await timeUpserts(
    CACHE,
    collections.map((c) => c.name),
    embedder,
  );
  for (const { size, label, name } of collections) rows.push({ ...(await measure(CACHE, name, embedder, size, label, times.get(name)!)), buildMs: buildMs.get(name)! });
  const ratio = (label: string) => {
    const [small, large] = [Math.min(...SIZES), Math.max(...SIZES)].map((n) => rows.find((r) => r.passages === n && r.index === label)!);
    return large.medianMs / small.medianMs;
  };
  const result = {
    command: 'npm run bench:write',
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: { before: loadBefore, after: loadavg() },
    node: process.version,
    runs: RUNS,
    goalMs: 50,
    rows,
    ratios: Object.fromEntries(INDEXES.map(({ label }) => [label, SIZES.length > 1 ? ratio(label) : null])),
  };
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'write.json'), JSON.stringify(result, null, 2) + '\n');
  const lines = [
    '## One-document upsert (`npm run bench:write`)',
    '',
    `Command: \`npm run bench:write\`. ${result.date.slice(0, 10)}, ${result.cpu} (lscpu model name), Node ${result.node}, load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} at the start. ` +
      `Median of ${RUNS} upserts of one new document per collection (the collections take turns, round after round, so passing load on the shared machine falls on every size alike) through \`upsertDocuments\` (writer lock, fingerprint check, chunking, commit, version seal, ANN and BM25 upkeep), ` +
      `the stand-in embedder's time subtracted (bench/write/stand-in-embedder.ts; vectors 384-d). Goal: <= 50 ms, not growing with the collection. ` +
      'CPU: user + system time of all the process\'s threads per upsert (V8\'s GC helpers included, so it can pass the wall time; less sensitive to other load than wall time, which also waits for fsync). ' +
      'One untimed upsert before them (a collection cached by an older build gets its new indexes then; saved files an earlier run left lagging are brought up to date). ' +
      'Catch-up write: the one-document upsert that takes the changes a saved file lacks past its defer limit (ANN for HNSW, BM25 for flat), so that it rewrites the file: the cost the small writes before it put off, paid once. ' +
      'Reader load: a fresh reader opening both indexes (verification, the saved files, catch-up), median of 3, first with the saved files lacking as many changes as the first defer limit allows (ANN for HNSW, BM25 for flat), then after the catch-up write. ' +
      'Filtered search: one vector query among the matches of a metadata filter matching 0.1% of the passages (176), on a fresh reader after one warm-up query; ' +
      'the SQL that finds the matches (every live document\'s metadata is read: no index on metadata) is timed apart.',
    '',
    '| passages | index | upsert median ms | upsert max ms | upsert CPU median ms | catch-up upsert ms | reader load ms: at limit / caught up | filtered vector search ms | filter SQL ms | collection build s |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.passages} | ${r.index} | ${r.medianMs.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.cpuMedianMs.toFixed(1)} | ${r.catchUpMs.toFixed(0)} | ${r.readerAtLimitMs.toFixed(0)} / ${r.readerCaughtUpMs.toFixed(0)} | ` +
        `${r.filteredSearchMs.toFixed(1)} | ${r.filterSqlMs.toFixed(0)} | ${(r.buildMs / 1000).toFixed(0)} |`,
    ),
    '',
    ...INDEXES.map(({ label }) => (result.ratios[label] === null ? '' : `Ratio ${Math.max(...SIZES)} / ${Math.min(...SIZES)} passages, ${label}: ${result.ratios[label]!.toFixed(2)}.`)).filter(Boolean),
  ];
  writeMarkedSection(join(REPO_ROOT, 'BENCHMARKS.md'), 'bench:write', lines.join('\n'));
  console.log(lines.join('\n'));
}

await main();
