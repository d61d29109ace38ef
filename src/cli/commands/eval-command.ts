import { Option, type Command } from 'commander';
import { sh } from '../../api/card.js';
import { evaluate, type EvalReport } from '../../api/evaluate.js';
import { parseWeights } from '../../retrieve/fusion.js';
import { appendEvalHistory, historyEntry } from '../../eval/history.js';
import { printJson } from '../output.js';
import { createCountBar } from '../progress.js';
import { floatArg, intArg } from './parse.js';

interface EvalFlags {
  dataset: string;
  split: string;
  modes: string;
  k: number;
  data: string;
  collection?: string;
  models?: string;
  model?: string;
  ignoreIdenticalIds?: boolean;
  limitQueries?: number;
  weights?: string;
  rrfK?: number;
  fusion?: 'rrf' | 'convex';
  k1?: number;
  b?: number;
  rerankModel?: string;
  rerankTopN?: number;
  rerankWeight?: number;
  json?: boolean;
  quiet?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('measure retrieval quality on a BEIR-format dataset: nDCG, recall, MRR, precision and latency per mode')
    .requiredOption('--dataset <dir>', 'BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)')
    .option('--split <name>', 'qrels split to evaluate', 'test')
    .option('--modes <list>', 'comma-separated: bm25, vector, hybrid, each optionally +rerank', 'bm25,vector,hybrid')
    .option('--k <n>', 'cut-off of nDCG, MRR and P (recall is @100)', intArg(1, 100), 10)
    .addOption(new Option('--data <dir>', 'folder holding collections').default('.quarry'))
    .option('--collection <name>', 'collection to ingest the corpus into (default beir-<folder name>)')
    .option('--models <dir>', 'folder holding provisioned models')
    .option('--model <id>', 'embedding model for a new collection (default all-MiniLM-L6-v2)')
    .option('--ignore-identical-ids', "drop results whose id equals the query's (BEIR's flag, for corpora that hold their queries)")
    .option('--limit-queries <n>', 'only the first N judged queries', intArg(1, 10_000_000))
    .option('--weights <list>', 'hybrid: retriever weights, e.g. vector=1,bm25=0.5')
    .option('--rrf-k <k>', "hybrid: reciprocal rank fusion's k (implies --fusion rrf; default 60)", floatArg(0, 1e6))
    .addOption(new Option('--fusion <method>', 'hybrid: convex (default) or rrf').choices(['rrf', 'convex']))
    .option('--k1 <x>', 'bm25 k1', floatArg(0, 10))
    .option('--b <x>', 'bm25 b', floatArg(0, 1))
    .option('--rerank-model <id>', 'tier-2 model for +rerank modes (default bge-small-en-v1.5)')
    .option('--rerank-top-n <n>', 'candidates tier 2 rescores (default 50)', intArg(1, 10_000))
    .option('--rerank-weight <w>', "tier 2's share of the pool's order, 0..1 (default 0.7; 1 = tier 2 alone)", floatArg(0, 1))
    .option('--json', 'print one JSON object')
    .option('-q, --quiet', 'no progress bar')
    .action(async (o: EvalFlags) => {
      const bar = createCountBar(!o.quiet);
      let report: EvalReport;
      try {
        report = await evaluate({
          dataset: o.dataset,
          split: o.split,
          modes: o.modes.split(',').filter((m) => m.trim() !== ''),
          k: o.k,
          dataDir: o.data,
          collection: o.collection,
          modelsDir: o.models,
          model: o.model,
          ignoreIdenticalIds: o.ignoreIdenticalIds,
          limitQueries: o.limitQueries,
          weights: o.weights ? parseWeights(o.weights) : undefined,
          rrfK: o.rrfK,
          fusion: o.fusion,
          bm25: o.k1 !== undefined || o.b !== undefined ? { k1: o.k1, b: o.b } : undefined,
          rerankModel: o.rerankModel,
          rerankTopN: o.rerankTopN,
        rerankWeight: o.rerankWeight,
          onProgress: (p) => {
            if (p.stage === 'ingest') bar.update(p.progress.bytesDone, p.progress.bytesTotal, 'ingesting corpus');
            else bar.update(p.done, p.total, p.mode);
          },
        });
      } finally {
        bar.stop();
      }
      // The run joins the collection's evaluation history (the web page's chart, the system card), with the command that made it.
      const command = ['quarry', ...process.argv.slice(2)].map(sh).join(' ');
      await appendEvalHistory(o.data, report.collection, historyEntry(report, { dataset: report.dataset, k: o.k, command }));
      if (o.json) return printJson(report);
      const k = o.k;
      process.stdout.write(`${report.dataset} (${report.split}): ${report.queries} queries, ${report.documents} documents, ${report.chunks} chunks, ${report.model}\n`);
      process.stdout.write(`${'mode'.padEnd(18)} ${`nDCG@${k}`.padStart(8)} ${'R@100'.padStart(8)} ${`MRR@${k}`.padStart(8)} ${`P@${k}`.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}\n`);
      for (const m of report.modes) {
        const f = (x: number) => x.toFixed(4).padStart(8);
        process.stdout.write(
          `${m.mode.padEnd(18)} ${f(m[`ndcg@${k}`])} ${f(m['recall@100'])} ${f(m[`mrr@${k}`])} ${f(m[`p@${k}`])} ${m.latencyMs.p50.toFixed(2).padStart(8)} ${m.latencyMs.p99.toFixed(2).padStart(8)}\n`,
        );
      }
    });
}
