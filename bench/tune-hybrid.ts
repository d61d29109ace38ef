/**
 * npm run tune:hybrid — picks hybrid fusion settings on a BEIR dataset's TRAIN split (never
 * test): each query's vector and BM25 windows are retrieved once, then every fusion setting
 * in the grid is scored offline on them (nDCG@10, documents ranked by their best chunk).
 * The collection is the one `quarry eval` builds (beir-<folder>); run that first.
 *
 *   npm run tune:hybrid -- [dataset dir, default ../shared/datasets/scifact] [split, default train]
 *
 * Writes bench/results/tune-hybrid-<dataset>.json (every setting, best first).
 */
import { LocalReader } from '../src/store/local/local-reader.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadEmbedder, refOf } from '../src/api/load-model.js';
import { loadBeirDataset } from '../src/eval/beir.js';
import { mean, ndcgAtK, recallAtK } from '../src/eval/metrics.js';
import { convexFuse, rrfFuse, type RankedList } from '../src/retrieve/fusion.js';
import { SearchSession } from '../src/retrieve/session.js';
import { Collection } from '../src/store/collection.js';
import { REPO_ROOT, SHARED_DIR } from './support.js';

const DEPTH = 300;

interface Setting {
  /** chunk: fuse chunk lists, documents by their best fused chunk; document: each list collapsed to documents (best chunk) first. */
  level: 'chunk' | 'document';
  fusion: 'rrf' | 'convex' | 'convex-tmm';
  /** Candidates per retriever fused (the lists hold DEPTH). */
  window: number;
  rrfK?: number;
  weights: { vector: number; bm25: number };
  bm25: { k1: number; b: number };
}

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? join(SHARED_DIR, 'datasets', 'scifact'));
  const split = process.argv[3] ?? 'train';
  const ds = await loadBeirDataset(dir, split);
  const c = await Collection.open(process.env.QUARRY_DATA ?? '.quarry', `beir-${basename(dir)}`, 'read');
  const embedder = await loadEmbedder(refOf(c.manifest.model));
  const session = new SearchSession(LocalReader.wrap(c), embedder);
  const docOf = c.db.liveChunkDocIds();
  const bm25Params = [
    { k1: 0.9, b: 0.4 },
    { k1: 1.2, b: 0.75 },
  ];
  // Retrieve once per query: the vector window and one BM25 window per BM25 setting.
  const vec: RankedList[] = [];
  const lex = new Map<string, RankedList[]>(bm25Params.map((p) => [JSON.stringify(p), []]));
  for (const q of ds.queries) {
    vec.push({ name: 'vector', hits: (await session.retrieve(q.text, { mode: 'vector', k: DEPTH })).hits });
    for (const p of bm25Params) lex.get(JSON.stringify(p))!.push({ name: 'bm25', hits: (await session.retrieve(q.text, { mode: 'bm25', k: DEPTH, bm25: p })).hits });
  }
  const settings: Setting[] = [];
  for (const level of ['chunk', 'document'] as const) {
    for (const bm25 of bm25Params) {
      for (const rrfK of [10, 20, 40, 60, 100]) {
        for (const wv of [0.5, 0.75, 1, 1.25, 1.5, 2]) settings.push({ level, fusion: 'rrf', window: 100, rrfK, weights: { vector: wv, bm25: 1 }, bm25 });
      }
      for (const window of [100, 300]) {
        for (const fusion of ['convex', 'convex-tmm'] as const) {
          for (const wv of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) settings.push({ level, fusion, window, weights: { vector: wv, bm25: 1 - wv }, bm25 });
        }
      }
    }
  }
  // Document-level lists: each document once, at its best chunk's rank and score; ids are
  // document numbers so the fusion code is the same.
  const docNum = new Map<string, number>();
  const docName: string[] = [];
  const collapse = (list: RankedList): RankedList => {
    const seen = new Set<number>();
    const hits: Array<{ id: number; score: number }> = [];
    for (const h of list.hits) {
      const d = docOf.get(h.id);
      if (d === undefined) continue;
      let n = docNum.get(d);
      if (n === undefined) {
        n = docName.length;
        docNum.set(d, n);
        docName.push(d);
      }
      if (seen.has(n)) continue;
      seen.add(n);
      hits.push({ id: n, score: h.score });
    }
    return { name: list.name, hits };
  };
  const docVec = vec.map(collapse);
  const docLex = new Map([...lex].map(([p, l]) => [p, l.map(collapse)]));
  const docsOf = (hits: ReadonlyArray<{ id: number }>): string[] => {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const h of hits) {
      const d = docOf.get(h.id);
      if (d !== undefined && !seen.has(d)) {
        seen.add(d);
        out.push(d);
      }
    }
    return out;
  };
  const results = settings.map((s) => {
    const ndcg: number[] = [];
    const recall: number[] = [];
    ds.queries.forEach((q, i) => {
      const doc = s.level === 'document';
      const full = doc ? [docVec[i], docLex.get(JSON.stringify(s.bm25))![i]] : [vec[i], lex.get(JSON.stringify(s.bm25))![i]];
      const lists = full.map((l) => ({ name: l.name, hits: l.hits.slice(0, s.window) }));
      // tmm: theoretical minimum (0 for both scores) instead of the window's minimum
      const tmm = (l: RankedList): RankedList => ({ name: l.name, hits: [...l.hits, { id: -1, score: 0 }] });
      const fused =
        s.fusion === 'rrf'
          ? rrfFuse(lists, { k: s.rrfK, weights: s.weights })
          : convexFuse(s.fusion === 'convex' ? lists : lists.map(tmm), { weights: s.weights }).filter((f) => f.id !== -1);
      const ranked = doc ? fused.map((f) => docName[f.id]) : docsOf(fused);
      ndcg.push(ndcgAtK(ranked, ds.qrels.get(q.id)!, 10));
      recall.push(recallAtK(ranked, ds.qrels.get(q.id)!, 100));
    });
    return { ...s, 'ndcg@10': Math.round(mean(ndcg) * 1e4) / 1e4, 'recall@100': Math.round(mean(recall) * 1e4) / 1e4 };
  });
  const single = (lists: RankedList[]) => Math.round(mean(ds.queries.map((q, i) => ndcgAtK(docsOf(lists[i].hits), ds.qrels.get(q.id)!, 10))) * 1e4) / 1e4;
  results.sort((a, b) => b['ndcg@10'] - a['ndcg@10']);
  const out = {
    dataset: dir,
    split,
    queries: ds.queries.length,
    single: { vector: single(vec), ...Object.fromEntries([...lex].map(([p, l]) => [`bm25 ${p}`, single(l)])) },
    settings: results,
  };
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  const file = join(REPO_ROOT, 'bench', 'results', `tune-hybrid-${basename(dir)}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`${split}: ${ds.queries.length} queries; single retrievers nDCG@10 ${JSON.stringify(out.single)}\n`);
  for (const r of results.slice(0, 20)) process.stdout.write(`${r['ndcg@10'].toFixed(4)}  ${JSON.stringify({ level: r.level, fusion: r.fusion, window: r.window, rrfK: r.rrfK, weights: r.weights, bm25: r.bm25 })}\n`);
  process.stdout.write(`wrote ${file}\n`);
  await embedder.close();
  await c.close();
}

main().catch((e: unknown) => {
  process.stderr.write((e instanceof Error ? (e.stack ?? e.message) : String(e)) + '\n');
  process.exit(1);
});
