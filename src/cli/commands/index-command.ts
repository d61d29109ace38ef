import type { Command } from 'commander';
import { indexPaths } from '../../api/index-paths.js';
import { IndexInterruptedError } from '../../errors.js';
import { describeAnnFreshness } from '../../store/collection-index.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson, reportError } from '../output.js';
import { createProgressBar, showIngestProgress } from '../progress.js';
import { collectionOptions, indexSettingsFrom, intArg, withIndexOptions, type CollectionFlags, type IndexParamFlags } from './parse.js';

interface IndexFlags extends CollectionFlags, IndexParamFlags {
  model?: string;
  chunkTokens?: number;
  overlap?: number;
  json?: boolean;
  quiet?: boolean;
  prune?: boolean;
}

/** The shell's convention: a command ended by a signal exits 128 + its number (SIGINT 130, SIGTERM 143). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function registerIndex(program: Command): void {
  withIndexOptions(withCollectionOptions(
    program
      .command('index')
      .description('index files and folders (.txt .md .html .pdf .jsonl) into a collection; indexing them again mirrors them')
      .argument('<paths...>', 'files or folders to index'),
  )
    .option('--model <id>', 'embedding model (default: the collection\'s, or sentence-transformers/all-MiniLM-L6-v2)')
    .option('--chunk-tokens <n>', 'tokens per chunk, special tokens included (default 256)', intArg(8, 8192))
    .option('--overlap <n>', 'tokens shared by consecutive chunks (default 32)', intArg(0, 4096)))
    .option('--no-prune', 'keep documents whose files are gone from the paths (default: remove them in the new version)')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (paths: string[], o: IndexFlags) => {
      const bar = createProgressBar('indexing', !o.quiet);
      // Ctrl-C / SIGTERM: stop after the batch in progress, seal what was committed, say so in
      // one line; a second signal stops at once (what was committed is safe either way).
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) process.exit(SIGNAL_EXIT[signal] ?? 1);
        bar.stop();
        if (process.stderr.isTTY) process.stderr.write(`\nquarry: ${signal}: stopping after the batch in progress (again to stop at once)\n`);
        stop.abort(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let report;
      try {
        report = await indexPaths(paths, {
          ...collectionOptions(o),
          model: o.model,
          chunkTokens: o.chunkTokens,
          overlapTokens: o.overlap,
          index: indexSettingsFrom(o),
          prune: o.prune !== false,
          signal: stop.signal,
          onNote: (n) => {
            if (!o.json) process.stderr.write(`\nquarry: ${n}\n`);
          },
          onProgress: showIngestProgress(bar),
          onProblem: (p) => {
            if (!o.json) process.stderr.write(`\nquarry: skipped ${p.path}${p.locator ? ` (${p.locator})` : ''}: ${p.reason}\n`);
          },
        });
      } catch (e) {
        if (!(e instanceof IndexInterruptedError)) throw e;
        bar.stop();
        reportError(e, Boolean(o.json));
        process.exitCode = SIGNAL_EXIT[e.reason] ?? 130;
        return;
      } finally {
        bar.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (o.json) return printJson(report);
      process.stdout.write(
        `${report.created ? 'created' : 'updated'} collection "${report.collection}" with ${report.model}: ` +
          `${report.documentsAdded} added, ${report.documentsUpdated} updated, ${report.documentsUnchanged} unchanged, ${report.documentsRemoved} removed, ` +
          `${report.chunksWritten} chunks written (${report.cacheHits} from the embedding cache), ${report.problems.length} skipped, ` +
          `in ${(report.elapsedMs / 1000).toFixed(1)} s${report.generation ? `; now version ${report.generation}` : ''}\n`,
      );
      if (report.ann) {
        process.stdout.write(
          report.ann.fallback
            ? `index ${report.ann.type}: ${report.ann.fallback}\n`
            : `index ${report.ann.type} ${JSON.stringify(report.ann.params)}: ${report.ann.vectors} vectors saved, measured recall@10 ${report.ann.recallAt10} (${describeAnnFreshness(report.ann)})\n`,
        );
      }
    });
}
