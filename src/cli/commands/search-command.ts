import type { Command } from 'commander';
import { search } from '../../api/search.js';
import { withCollectionOptions } from '../main.js';
import { printJson } from '../output.js';
import { collectionOptions, floatArg, intArg, type CollectionFlags } from './parse.js';

interface SearchFlags extends CollectionFlags {
  k: number;
  filter?: string;
  nprobe?: number;
  efSearch?: number;
  refine?: number;
  minScore?: number;
  model?: string;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  withCollectionOptions(
    program.command('search').description('search a collection by meaning').argument('<query>', 'what to look for'),
  )
    .option('-k, --k <n>', 'how many results', intArg(1, 1000), 10)
    .option('--min-score <x>', 'similarity cutoff from -1 to 1; results below it are dropped, even all of them', floatArg(-1, 1))
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
        minScore: o.minScore,
        model: o.model,
        filter: o.filter,
        params: Object.values(params).some((v) => v !== undefined) ? params : undefined,
      });
      if (o.json) {
        return printJson({
          query: res.query,
          collection: res.collection,
          model: res.model,
          queryTruncated: res.queryTruncated,
          results: res.results,
        });
      }
      if (res.queryTruncated) process.stderr.write('quarry: note: the query is longer than the model reads; only its beginning was used\n');
      if (res.results.length === 0) {
        process.stdout.write(o.minScore !== undefined ? `no results at or above --min-score ${o.minScore}\n` : 'no results\n');
        return;
      }
      for (const r of res.results) {
        const where = r.locator ? `${r.source} (${r.locator})` : r.source;
        const snippet = r.text.replace(/\s+/g, ' ').slice(0, 240);
        process.stdout.write(`${r.rank}. ${r.score.toFixed(4)}  ${where} [${r.span.start}-${r.span.end}]\n   ${snippet}${r.text.length > 240 ? '…' : ''}\n`);
      }
    });
}
