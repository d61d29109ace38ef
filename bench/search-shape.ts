/**
 * What returning documents costs: the same default (hybrid, k 10) searches through one warm
 * session, answered as documents (the default) and as chunks (`chunks: true`), alternating,
 * in-process (searchSession's own tookMs: retrieval, grouping, rows; no HTTP).
 *
 *   npm run build && node dist/bench/search-shape.js [--data .quarry] [--collection beir-scifact] [--queries 200]
 *
 * Runs on a collection `quarry eval --dataset ../shared/datasets/scifact` built; the queries
 * are SciFact's, in file order. Prints one JSON line (no results file: a quick check).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEmbedder, refOf } from '../src/api/load-model.js';
import { searchSession } from '../src/api/search.js';
import { SearchSession } from '../src/retrieve/session.js';
import { openStore } from '../src/store/open-store.js';
import { median, SHARED_DIR } from './support.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '.quarry' },
    collection: { type: 'string', default: 'beir-scifact' },
    queries: { type: 'string', default: '200' },
  },
});

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

const reader = await openStore(values.data!).openReader(values.collection!);
const embedder = await loadEmbedder(refOf(reader.manifest.model));
const session = new SearchSession(reader, embedder, null);
try {
  await session.warm(['hybrid']);
  const queries = readFileSync(join(SHARED_DIR, 'datasets', 'scifact', 'queries.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text)
    .slice(0, Number(values.queries));
  const ctx = { session, embedder, reranker: null };
  for (const q of queries.slice(0, 10)) await searchSession(ctx, q, { observe: false }); // warm-up
  const took: Record<'document' | 'chunk', number[]> = { document: [], chunk: [] };
  for (const q of queries) {
    for (const chunks of [false, true]) took[chunks ? 'chunk' : 'document'].push((await searchSession(ctx, q, { chunks, observe: false })).tookMs);
  }
  const counts = await reader.counts();
  console.log(
    JSON.stringify({
      collection: values.collection,
      ...counts,
      queries: queries.length,
      mode: 'hybrid',
      k: 10,
      documentMs: { p50: median(took.document), p99: p99(took.document) },
      chunkMs: { p50: median(took.chunk), p99: p99(took.chunk) },
    }),
  );
} finally {
  session.close();
  await embedder.close();
}
