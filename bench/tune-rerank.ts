/**
 * npm run tune:rerank — picks how tier 2 reorders its pool, on a BEIR dataset's TRAIN split
 * (never test). Each query's hybrid list (the defaults, as `quarry eval` runs it) is
 * retrieved once and its top N chunks scored once by the tier-2 model; then every way of
 * ordering the pool is scored offline (nDCG@10, documents ranked by their best chunk):
 *
 *   rerank        the tier-2 score alone
 *   convex w      w · minmax(tier-2) + (1 - w) · minmax(first stage), over the pool
 *   rrf k w       w / (k + rank_tier2) + (1 - w) / (k + rank_first)
 *
 * The collection is the one `quarry eval` builds (beir-<folder>); run that first.
 *
 *   npm run tune:rerank -- [dataset dir] [split, default train] [model, default bge-small-en-v1.5]
 *
 * Tier-2 scores are kept in ~/.cache/quarry/bench (re-runs only re-analyse); the table goes
 * to bench/results/tune-rerank-<dataset>.json, best first.
 */
import { LocalReader } from '../src/store/local/local-reader.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { loadEmbedder, refOf } from '../src/api/load-model.js';
import { loadBeirDataset } from '../src/eval/beir.js';
import { mean, ndcgAtK } from '../src/eval/metrics.js';
import { DEFAULT_RERANK_MODEL, DEFAULT_RERANK_TOP_N, loadReranker } from '../src/retrieve/rerank.js';
import { minmax } from '../src/retrieve/fusion.js';
import { SearchSession } from '../src/retrieve/session.js';
import { lexicalText } from '../src/store/collection-lexical.js';
import { Collection } from '../src/store/collection.js';
import { Tier2Cache } from '../src/store/tier2-cache.js';
import { createHash } from 'node:crypto';
import { REPO_ROOT, SHARED_DIR } from './support.js';

const DEPTH = 300;

interface QueryPool {
  /** First-stage chunk ids, best first (DEPTH of them). */
  ids: number[];
  fused: number[];
  /** Tier-2 scores of the first N. */
  rerank: number[];
}

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? join(SHARED_DIR, 'datasets', 'scifact'));
  const split = process.argv[3] ?? 'train';
  const model = process.argv[4] ?? DEFAULT_RERANK_MODEL;
  const ds = await loadBeirDataset(dir, split);
  const c = await Collection.open(process.env.QUARRY_DATA ?? '.quarry', `beir-${basename(dir)}`, 'read');
  const docOf = c.db.liveChunkDocIds();
  const cacheDir = join(homedir(), '.cache', 'quarry', 'bench');
  const cacheFile = join(cacheDir, `tune-rerank-${basename(dir)}-${split}-${model.replace(/[^A-Za-z0-9.-]/g, '_')}-${c.db.head()}.json`);
  let pools: QueryPool[];
  if (existsSync(cacheFile)) {
    pools = JSON.parse(readFileSync(cacheFile, 'utf8')) as QueryPool[];
  } else {
    const embedder = await loadEmbedder(refOf(c.manifest.model));
    const reranker = await loadReranker(model);
    const session = new SearchSession(LocalReader.wrap(c), embedder);
    const store = Tier2Cache.open(c.paths.dir);
    pools = [];
    const t0 = performance.now();
    for (const [i, q] of ds.queries.entries()) {
      const { hits } = await session.retrieve(q.text, { mode: 'hybrid', k: DEPTH, window: DEPTH });
      const pool = hits.slice(0, DEFAULT_RERANK_TOP_N);
      const rows = new Map(c.db.chunkTexts(pool.map((h) => h.id)).map((r) => [r.id, r]));
      const rerank = await reranker.score(
        q.text,
        pool.map((h) => {
          const text = lexicalText(rows.get(h.id)!.title, rows.get(h.id)!.text);
          return { id: h.id, text, hash: createHash('sha256').update(text).digest('hex') };
        }),
        store,
      );
      pools.push({ ids: hits.map((h) => h.id), fused: hits.map((h) => h.score), rerank });
      if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${ds.queries.length} queries, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    await store?.close();
    await reranker.close();
    await embedder.close();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(pools));
  }

  const ndcgOf = (order: (p: QueryPool) => number[]): number =>
    Math.round(
      mean(
        ds.queries.map((q, i) => {
          const ranked: string[] = [];
          const seen = new Set<string>();
          for (const id of order(pools[i])) {
            const d = docOf.get(id);
            if (d !== undefined && !seen.has(d)) {
              seen.add(d);
              ranked.push(d);
            }
          }
          return ndcgAtK(ranked, ds.qrels.get(q.id)!, 10);
        }),
      ) * 1e4,
    ) / 1e4;
  const reorder = (p: QueryPool, score: (i: number) => number): number[] => {
    const n = p.rerank.length;
    const head = [...Array(n).keys()].sort((a, b) => score(b) - score(a) || a - b).map((i) => p.ids[i]);
    return [...head, ...p.ids.slice(n)];
  };
  const rankOf = (xs: number[]): number[] => {
    const order = [...xs.keys()].sort((a, b) => xs[b] - xs[a] || a - b);
    const r = new Array<number>(xs.length);
    order.forEach((i, pos) => (r[i] = pos + 1));
    return r;
  };

  const rows: Array<{ method: string; w?: number; k?: number; 'ndcg@10': number }> = [];
  rows.push({ method: 'first stage (hybrid)', 'ndcg@10': ndcgOf((p) => p.ids) });
  rows.push({ method: 'rerank', 'ndcg@10': ndcgOf((p) => reorder(p, (i) => p.rerank[i])) });
  for (const w of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
    rows.push({
      method: 'convex',
      w,
      'ndcg@10': ndcgOf((p) => {
        const a = minmax(p.rerank);
        const b = minmax(p.fused.slice(0, p.rerank.length));
        return reorder(p, (i) => w * a[i] + (1 - w) * b[i]);
      }),
    });
  }
  for (const k of [10, 30, 60]) {
    for (const w of [0.5, 0.6, 0.7]) {
      rows.push({
        method: 'rrf',
        k,
        w,
        'ndcg@10': ndcgOf((p) => {
          const rr = rankOf(p.rerank);
          return reorder(p, (i) => w / (k + rr[i]) + (1 - w) / (k + i + 1));
        }),
      });
    }
  }
  rows.sort((a, b) => b['ndcg@10'] - a['ndcg@10']);
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  const file = join(REPO_ROOT, 'bench', 'results', `tune-rerank-${basename(dir)}.json`);
  writeFileSync(file, JSON.stringify({ dataset: dir, split, queries: ds.queries.length, model, topN: DEFAULT_RERANK_TOP_N, rows }, null, 2) + '\n');
  for (const r of rows) process.stdout.write(`${r['ndcg@10'].toFixed(4)}  ${JSON.stringify(r)}\n`);
  process.stdout.write(`wrote ${file}\n`);
  await c.close();
}

main().catch((e: unknown) => {
  process.stderr.write((e instanceof Error ? (e.stack ?? e.message) : String(e)) + '\n');
  process.exit(1);
});
