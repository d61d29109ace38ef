import { Option, type Command } from 'commander';
import { search } from '../../api/search.js';
import { DEFAULT_MODE, SEARCH_MODES, type SearchMode } from '../../retrieve/session.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson } from '../output.js';
import { collectionOptions, floatArg, intArg, type CollectionFlags } from './parse.js';

interface SearchFlags extends CollectionFlags {
  k: number;
  offset?: number;
  mode: SearchMode;
  weights?: string;
  rrfK?: number;
  fusion?: 'rrf' | 'convex';
  window?: number;
  k1?: number;
  b?: number;
  rerank?: boolean;
  rerankModel?: string;
  rerankTopN?: number;
  rerankWeight?: number;
  filter?: string;
  nprobe?: number;
  efSearch?: number;
  refine?: number;
  minScore?: number;
  chunks?: boolean;
  model?: string;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  withCollectionOptions(
    program.command('search').description('search a collection by meaning and words together (hybrid, the default), by meaning (vector) or by words (bm25); documents by default').argument('<query>', 'what to look for'),
  )
    .option('-k, --k <n>', 'how many results', intArg(1, 1000), 10)
    .option('--offset <n>', 'skip this many results (pagination)', intArg(0, 100_000))
    .addOption(new Option('--mode <mode>', 'retrievers to use').choices([...SEARCH_MODES]).default(DEFAULT_MODE))
    .option('--weights <list>', 'hybrid: retriever weights, e.g. vector=1,bm25=0.5')
    .option('--rrf-k <k>', "hybrid: reciprocal rank fusion's k (implies --fusion rrf; default 60)", floatArg(0, 1e6))
    .addOption(new Option('--fusion <method>', 'hybrid: convex (min-max normalized weighted sum, the default) or rrf').choices(['rrf', 'convex']))
    .option('--window <n>', 'hybrid: candidates per retriever before fusing (default 100)', intArg(1, 100_000))
    .option('--k1 <x>', 'bm25: term-frequency saturation (default 0.9)', floatArg(0, 10))
    .option('--b <x>', 'bm25: length normalization (default 0.4)', floatArg(0, 1))
    .option('--rerank', 'rescore the top candidates with a tier-2 model')
    .option('--rerank-model <id>', 'tier-2 model: an embedding model or a cross-encoder (default bge-small-en-v1.5)')
    .option('--rerank-top-n <n>', 'candidates tier 2 rescores (default 50)', intArg(1, 10_000))
    .option('--rerank-weight <w>', "tier 2's share of the pool's order, 0..1 (default 0.7; 1 = tier 2 alone)", floatArg(0, 1))
    .option('--min-score <x>', "cutoff on each chunk's cosine similarity to the query, in every mode (with --rerank: on the tier-2 score; refused in bm25 mode without it); may drop all results", floatArg(-1e9, 1e9))
    .option('--chunks', 'one result per chunk, as ranked, instead of one per document with its best passages')
    .option('--model <id>', "embedding model (must be the collection's own)")
    .option('--filter <json>', 'metadata filter, e.g. \'{"lang":"en","year":{"$gte":2020}}\'')
    .option('--nprobe <n>', 'ivf/ivfpq: lists probed for this query', intArg(1, 1_000_000))
    .option('--ef-search <n>', 'hnsw: candidate list for this query', intArg(1, 100_000))
    .option('--refine <k>', 'ivfpq: candidates rescored exactly for this query', intArg(0, 100_000))
    .option('--json', 'print one JSON object')
    .action(async (query: string, o: SearchFlags) => {
      const params = { nprobe: o.nprobe, efSearch: o.efSearch, refine: o.refine };
      const res = await search(query, {
        ...collectionOptions(o),
        k: o.k,
        offset: o.offset,
        mode: o.mode,
        weights: o.weights,
        rrfK: o.rrfK,
        fusion: o.fusion,
        window: o.window,
        bm25: o.k1 !== undefined || o.b !== undefined ? { k1: o.k1, b: o.b } : undefined,
        rerank: o.rerank,
        rerankModel: o.rerankModel,
        rerankTopN: o.rerankTopN,
        rerankWeight: o.rerankWeight,
        minScore: o.minScore,
        chunks: o.chunks,
        model: o.model,
        filter: o.filter,
        params: Object.values(params).some((v) => v !== undefined) ? params : undefined,
      });
      if (o.json) return printJson(res);
      if (res.queryTruncated) process.stderr.write('quarry: note: the query is longer than the model reads; only its beginning was used\n');
      if (res.results.length === 0) {
        const on = o.rerank ? 'tier-2 score' : 'cosine similarity';
        process.stdout.write(o.minScore !== undefined ? `no results at or above --min-score ${o.minScore} (${on})\n` : 'no results\n');
        return;
      }
      for (const r of res.results) {
        const where = r.locator ? `${r.source} (${r.locator})` : r.source;
        const title = r.title ? `  ${r.title}` : '';
        // the cosine beside a fused or blended score: it is what --min-score compares
        const cos = res.mode !== 'vector' || res.reranker ? (r.scores.vector === null ? '' : ` (cosine ${r.scores.vector.toFixed(4)})`) : '';
        process.stdout.write(`${r.rank}. ${r.score.toFixed(4)}${cos}  ${where} [${r.span.start}-${r.span.end}]${title}\n   ${snippet(r.text)}\n`);
        for (const p of r.passages ?? []) process.stdout.write(`   also [${p.span.start}-${p.span.end}] ${p.score.toFixed(4)}: ${snippet(p.text, 120)}\n`);
      }
    });
}

function snippet(text: string, max = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
