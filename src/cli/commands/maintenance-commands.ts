import type { Command } from 'commander';
import { check } from '../../api/check.js';
import { repair } from '../../api/repair.js';
import { compact, DEFAULT_RETENTION, gc } from '../../api/versions.js';
import { withCollectionOptions } from '../collection-options.js';
import { EXIT_CODES, printJson } from '../output.js';
import { collectionOptions, intArg, type CollectionFlags } from './parse.js';

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export function registerMaintenance(program: Command): void {
  withCollectionOptions(program.command('compact').description('rewrite vector files without deleted rows and vacuum the database'))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const r = await compact(collectionOptions(o));
      if (o.json) return printJson(r);
      process.stdout.write(`compacted: ${mb(r.bytesBefore)} -> ${mb(r.bytesAfter)} (${mb(r.bytesReclaimed)} reclaimed, ${r.vectorsDropped} vectors dropped)\n`);
    });

  withCollectionOptions(program.command('gc').description(`drop versions beyond the newest --keep (default ${DEFAULT_RETENTION}) and reclaim their space`))
    .option('--keep <n>', 'versions to keep, the current one included', intArg(1, 1_000_000), DEFAULT_RETENTION)
    .option('--keep-generations <n>', 'retired model generations to keep for rollback (default: the deployment\'s retention, 2)', intArg(0, 1000))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { keep: number; keepGenerations?: number; json?: boolean }) => {
      const r = await gc({ ...collectionOptions(o), keep: o.keep, keepGenerations: o.keepGenerations });
      if (o.json) return printJson(r);
      const gens = r.generationsRemoved.length > 0 ? `, retired generation(s) ${r.generationsRemoved.join(', ')}` : '';
      process.stdout.write(`removed ${r.versionsRemoved} version(s), ${r.chunksRemoved} chunk rows${gens}; ${mb(r.bytesReclaimed)} reclaimed\n`);
    });

  withCollectionOptions(program.command('check').description('verify every file a search depends on; exit 5 if anything is damaged'))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const r = await check(collectionOptions(o));
      if (o.json) printJson(r);
      else {
        for (const p of r.problems) process.stdout.write(`DAMAGED: ${p}\n`);
        for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
        process.stdout.write(
          `${r.ok ? 'OK' : 'FAILED'}: collection "${r.collection}" version ${r.generation}: ${r.checked.documents} documents, ${r.checked.chunks} chunks, ${r.checked.segments} vector segments checked\n`,
        );
      }
      if (!r.ok) process.exitCode = EXIT_CODES.integrity;
    });

  withCollectionOptions(
    program
      .command('repair')
      .description('rebuild what is derivable in a damaged collection: vector segments re-derived from the stored text, ANN and BM25 index files; exit 5 if damage remains'),
  )
    .option('--dry-run', 'say what would be done, change nothing')
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { dryRun?: boolean; json?: boolean }) => {
      const r = await repair({ ...collectionOptions(o), dryRun: o.dryRun });
      if (o.json) printJson(r);
      else {
        const verb = r.dryRun ? 'would ' : '';
        for (const a of r.actions) {
          if (a.kind === 'rederive-vectors') {
            const how = [`${a.reembed} re-embedded`, `${a.fromCache} from the embedding cache`, ...(a.unreferenced ? [`${a.unreferenced} unused`] : [])].join(', ');
            process.stdout.write(`${verb}${r.dryRun ? 're-derive' : 're-derived'} ${a.file} (${a.reason}): ${a.rows} rows, ${how}\n`);
          } else {
            process.stdout.write(`${verb}${r.dryRun ? 'rebuild' : 'rebuilt'} ${a.file} (${a.reason})\n`);
          }
        }
        for (const p of r.unrepairable) process.stdout.write(`CANNOT REPAIR: ${p}\n`);
        if (r.advice) process.stdout.write(`what to do: ${r.advice}\n`);
        for (const p of r.after?.problems ?? []) process.stdout.write(`STILL DAMAGED: ${p}\n`);
        const summary = r.unrepairable.length > 0
          ? 'FAILED: the source of truth is damaged; nothing was changed'
          : r.actions.length === 0
            ? 'OK: nothing to repair'
            : r.dryRun
              ? `${r.actions.length} repair(s) needed; run without --dry-run to do them`
              : r.ok
                ? `OK: repaired; \`quarry check\` passes`
                : 'FAILED: damage remains after the repair';
        process.stdout.write(`${summary} (collection "${r.collection}")\n`);
      }
      if (!r.ok) process.exitCode = EXIT_CODES.integrity;
    });
}
