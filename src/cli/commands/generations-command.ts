import type { Command } from 'commander';
import { DEFAULT_GATE_MODE, listGenerations, promote, reindex, setJudgments, type SwitchReport } from '../../api/generations.js';
import { readJudgments } from '../../eval/judgments.js';
import { dataDirOf, collectionOf } from '../../api/options.js';
import type { GateRow } from '../../store/deployment.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson } from '../output.js';
import { createProgressBar, showIngestProgress } from '../progress.js';
import { collectionOptions, floatArg, indexSettingsFrom, intArg, withIndexOptions, type CollectionFlags, type IndexParamFlags } from './parse.js';

const row = (label: string, r: GateRow) =>
  `  ${label.padEnd(7)} generation ${String(r.generation).padStart(3)}  nDCG@10 ${r['ndcg@10'].toFixed(4)}  Recall@100 ${r['recall@100'].toFixed(4)}  ${r.model}\n`;

export function printSwitch(r: SwitchReport, verb: string): void {
  if (r.gate) {
    process.stdout.write(`gate (${r.gate.mode}, ${r.gate.queries} held-out queries, tolerance ${r.gate.tolerance * 100} points): ${r.gate.passed ? 'passed' : 'FAILED'}\n`);
    process.stdout.write(row('live', r.gate.live) + row('shadow', r.gate.shadow));
  }
  const caught = r.caughtUp.documentsWritten + r.caughtUp.documentsRemoved;
  process.stdout.write(
    `${verb}: generation ${r.live} (${r.model}) is live; generation ${r.previous} is kept for rollback` +
      `${r.forced ? ' (FORCED, recorded in the audit log)' : ''}` +
      `${caught > 0 ? `; ${r.caughtUp.documentsWritten} document(s) written and ${r.caughtUp.documentsRemoved} removed to catch up first` : ''}\n`,
  );
}

/** `quarry reindex`, `promote`, `generations`, `judgments`: model upgrades through a shadow generation. */
export function registerGenerations(program: Command): void {
  withIndexOptions(
    withCollectionOptions(program.command('reindex').description('build a shadow generation (new model, chunking or index) beside the live one, which keeps serving'))
      .option('--model <id>', "embedding model of the new generation (default: the live generation's)")
      .option('--chunk-tokens <n>', "tokens per chunk (default: the live generation's)", intArg(8, 8192))
      .option('--overlap <n>', "tokens shared by consecutive chunks (default: the live generation's)", intArg(0, 4096)),
  )
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (o: CollectionFlags & IndexParamFlags & { model?: string; chunkTokens?: number; overlap?: number; json?: boolean; quiet?: boolean }) => {
      const bar = createProgressBar('reindexing', !o.quiet && !o.json);
      const r = await reindex({
        ...collectionOptions(o),
        model: o.model,
        chunkTokens: o.chunkTokens,
        overlapTokens: o.overlap,
        index: indexSettingsFrom(o),
        onNote: (n) => {
          if (!o.json) process.stderr.write(`\nquarry: ${n}\n`);
        },
        onProgress: showIngestProgress(bar),
      }).finally(() => bar.stop());
      if (o.json) return printJson(r);
      process.stdout.write(
        `built shadow generation ${r.generation} of "${r.collection}" with ${r.model} (chunks ${r.chunking.chunkTokens}/${r.chunking.overlapTokens}, index ${r.index.type}): ` +
          `${r.documents} documents, ${r.chunks} chunks, ${r.chunksEmbedded} embedded, cache hit rate ${(r.cacheHitRate * 100).toFixed(1)}%, in ${(r.elapsedMs / 1000).toFixed(1)} s\n` +
          `generation ${r.live} stays live; judge and switch with \`quarry promote --collection ${r.collection}\`\n`,
      );
    });

  withCollectionOptions(program.command('promote').description('judge the shadow against live on the held-out queries; make it live only if it is not worse'))
    .option('--tolerance <points>', 'largest allowed drop of nDCG@10 and Recall@100, in points (default 0.5)', floatArg(0, 100), 0.5)
    .option('--mode <mode>', `search mode the gate compares: vector, bm25 or hybrid (default ${DEFAULT_GATE_MODE})`)
    .option('--force', 'promote even when the gate refuses or there are no judgments (written to the audit log)')
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { tolerance: number; mode?: string; force?: boolean; json?: boolean }) => {
      const r = await promote({ ...collectionOptions(o), tolerance: o.tolerance / 100, mode: o.mode, force: o.force });
      if (o.json) return printJson(r);
      printSwitch(r, 'promoted');
    });

  withCollectionOptions(program.command('generations').description('the generations of a collection: live, shadow, kept for rollback'))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const d = await listGenerations(collectionOptions(o));
      if (o.json) return printJson(d);
      for (const g of d.generations) {
        const gate = g.gate ? `  gate ${g.gate.passed ? 'passed' : g.gate.forced ? 'forced' : 'refused'} (nDCG@10 ${g.gate.shadow['ndcg@10']} vs ${g.gate.live['ndcg@10']})` : '';
        const build = g.build ? `  ${g.build.documents} docs, ${g.build.chunks} chunks` : '';
        process.stdout.write(
          `${g.id === d.live ? '*' : ' '} ${String(g.id).padStart(3)}  ${g.state.padEnd(8)}  ${g.createdAt}  ${g.model}  chunks ${g.chunking.chunkTokens}/${g.chunking.overlapTokens}  ${g.index.type}${build}${gate}\n`,
        );
      }
      if (d.previous.length > 0) process.stdout.write(`rollback returns to generation ${d.previous.at(-1)}\n`);
    });

  const judgments = program.command('judgments').description("the collection's held-out queries and relevant documents, which the promotion gate runs");
  withCollectionOptions(
    judgments
      .command('set')
      .description('set them from a BEIR folder (queries.jsonl, qrels/<split>.tsv) or a JSON Lines file of {"query", "expected": [doc ids]}')
      .argument('<path>', 'BEIR folder or .jsonl file'),
  )
    .option('--split <name>', 'BEIR qrels split (default test)')
    .option('--json', 'print JSON')
    .action(async (path: string, o: CollectionFlags & { split?: string; json?: boolean }) => {
      const r = await setJudgments({ ...collectionOptions(o), path, split: o.split });
      if (o.json) return printJson(r);
      process.stdout.write(`collection "${r.collection}": ${r.queries} held-out queries with ${r.judgments} judgments from ${r.source}\n`);
    });
  withCollectionOptions(judgments.command('show').description('how many held-out queries are set, and from where'))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const opts = collectionOptions(o);
      const j = await readJudgments(dataDirOf(opts), collectionOf(opts));
      const out = j ? { collection: collectionOf(opts), queries: j.queries.length, source: j.source, setAt: j.setAt } : { collection: collectionOf(opts), queries: 0 };
      if (o.json) return printJson(out);
      process.stdout.write(j ? `${j.queries.length} held-out queries from ${j.source}, set ${j.setAt}\n` : 'no held-out judgments set\n');
    });
}
