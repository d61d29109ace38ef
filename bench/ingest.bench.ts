/**
 * npm run bench:ingest — is `quarry index` as fast as its embedder (issue 17, item 2)?
 *
 * The same SciFact abstracts, written as text files, are (a) indexed end to end into a fresh
 * collection (reading, chunking, tokenizing, embedding, SQLite and segment writes, the index
 * update), and (b) the very chunks that run embedded, embedded alone by the same model in
 * batches of the same size, nothing else. Both with the model already loaded. Ingest runs as
 * the CLI does, its model on a worker thread with the batches pipelined; "inline" shows the
 * same pipeline with the model on the main thread (a forward pass then blocks reading and
 * chunking). Rounds alternate, medians reported; goal: end-to-end ≥ 90% of embedder alone.
 * Writes bench/results/ingest.json and the bench:ingest section of BENCHMARKS.md.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexPaths } from '../src/api/index-paths.js';
import { loadEmbedder } from '../src/api/load-model.js';
import type { Embedder } from '../src/embed/embedder.js';
import { Collection } from '../src/store/collection.js';
import { median, REPO_ROOT, SHARED_DIR, writeMarkedSection } from './support.js';

const DOCS = Number(process.env.BENCH_INGEST_DOCS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
const BATCH = 256; // ingest's default batchChunks
const log = (m: string) => process.stderr.write(`[bench:ingest] ${m}\n`);

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'quarry-bench-ingest-'));
  try {
    const corpus = (await readFile(join(SHARED_DIR, 'datasets', 'scifact', 'corpus.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const src = join(work, 'src');
    await mkdir(src);
    let bytes = 0;
    for (const line of corpus.slice(0, DOCS)) {
      const d = JSON.parse(line) as { _id: string; title: string; text: string };
      const text = `${d.title}\n\n${d.text}\n`;
      bytes += Buffer.byteLength(text);
      await writeFile(join(src, `${d._id}.txt`), text);
    }
    const worker = await loadEmbedder(MODEL, undefined, { offThread: true });
    const inline = await loadEmbedder(MODEL);
    const ingest = async (embedder: Embedder, round: number, label: string) => {
      const data = join(work, `data-${label}-${round}`);
      const t0 = performance.now();
      const r = await indexPaths([src], { dataDir: data, embedder });
      const ms = performance.now() - t0;
      return { ms, chunks: r.chunksEmbedded, data };
    };
    // the chunks a run embeds, to embed alone
    const first = await ingest(worker, 0, 'probe');
    const c = await Collection.open(first.data, 'default', 'read');
    const chunkTexts = (c.db.db.prepare<{ text: string }>('SELECT text FROM chunks ORDER BY doc_id, seq').all() as Array<{ text: string }>).map((r) => r.text);
    await c.close();
    log(`${DOCS} documents, ${(bytes / 1e6).toFixed(2)} MB, ${chunkTexts.length} chunks`);
    // warm-up: the inline model's first passes (the worker's ran in the probe above)
    await inline.embed(chunkTexts.slice(0, BATCH));
    await ingest(inline, 0, 'warm');
    const alone: number[] = [];
    const e2e: number[] = [];
    const e2eInline: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = performance.now();
      for (let i = 0; i < chunkTexts.length; i += BATCH) await inline.embed(chunkTexts.slice(i, i + BATCH));
      alone.push(performance.now() - t0);
      const w = await ingest(worker, round, 'worker');
      e2e.push(w.ms);
      const n = await ingest(inline, round, 'inline');
      e2eInline.push(n.ms);
      log(`round ${round}: embedder alone ${alone.at(-1)!.toFixed(0)} ms, index (worker) ${w.ms.toFixed(0)} ms, index (inline) ${n.ms.toFixed(0)} ms`);
    }
    await worker.close();
    await inline.close();
    const perSec = (ms: number) => chunkTexts.length / (ms / 1000);
    const result = {
      startedAt: new Date().toISOString(),
      machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, node: process.version, loadAverage: loadavg() },
      documents: DOCS,
      chunks: chunkTexts.length,
      rounds: ROUNDS,
      medianMs: { embedderAlone: median(alone), indexWorker: median(e2e), indexInline: median(e2eInline) },
      chunksPerSecond: { embedderAlone: perSec(median(alone)), indexWorker: perSec(median(e2e)), indexInline: perSec(median(e2eInline)) },
      ratio: { worker: median(alone) / median(e2e), inline: median(alone) / median(e2eInline) },
    };
    await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    await writeFile(join(REPO_ROOT, 'bench', 'results', 'ingest.json'), JSON.stringify(result, null, 2) + '\n');
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const la = result.machine.loadAverage.map((x) => x.toFixed(2)).join(' / ');
    writeMarkedSection(
      join(REPO_ROOT, 'BENCHMARKS.md'),
      'bench:ingest',
      `## Ingest against the embedder alone

Command: \`npm run bench:ingest\` (results: \`bench/results/ingest.json\`), run ${result.startedAt}. Machine: ${result.machine.cpuModel}, ${result.machine.cpus} cores, Node ${process.version}; load average (1/5/15 min) ${la} at the end.

${DOCS} SciFact abstracts as text files (${(bytes / 1e6).toFixed(2)} MB, ${chunkTexts.length} chunks), all-MiniLM-L6-v2 fp32, loaded once. **index**: \`indexPaths\` into a fresh collection (read, chunk, tokenize, embed, SQLite and segment writes, index update). **embedder alone**: the same chunk texts, embedded in batches of ${BATCH} and nothing else. Medians of ${ROUNDS} alternating rounds.

| run | median ms | chunks/s | share of the embedder alone |
|---|---:|---:|---:|
| embedder alone | ${median(alone).toFixed(0)} | ${perSec(median(alone)).toFixed(1)} | 100% |
| index, model on a worker thread (what \`quarry index\` does) | ${median(e2e).toFixed(0)} | ${perSec(median(e2e)).toFixed(1)} | ${pct(result.ratio.worker)} |
| index, model inline on the main thread | ${median(e2eInline).toFixed(0)} | ${perSec(median(e2eInline)).toFixed(1)} | ${pct(result.ratio.inline)} |

Goal (issue 17): end-to-end ≥ 90% of the embedder alone: **${pct(result.ratio.worker)}** (${result.ratio.worker >= 0.9 ? 'met' : 'not met'}).
`,
    );
    log(`embedder alone ${median(alone).toFixed(0)} ms; index ${median(e2e).toFixed(0)} ms (${pct(result.ratio.worker)}), inline ${median(e2eInline).toFixed(0)} ms (${pct(result.ratio.inline)})`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
