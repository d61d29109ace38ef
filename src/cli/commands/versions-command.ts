import type { Command } from 'commander';
import { rollbackGeneration } from '../../api/generations.js';
import { rollback, versions } from '../../api/versions.js';
import { printSwitch } from './generations-command.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson } from '../output.js';
import { collectionOptions, intArg, type CollectionFlags } from './parse.js';

export function registerVersions(program: Command): void {
  withCollectionOptions(program.command('versions').description('list the kept versions of a collection'))
    .option('--json', 'print JSON')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const list = await versions(collectionOptions(o));
      if (o.json) return printJson({ versions: list });
      if (list.length === 0) return void process.stdout.write('no versions yet\n');
      for (const v of list) {
        process.stdout.write(
          `${v.current ? '*' : ' '} ${String(v.version).padStart(4)}  ${v.createdAt}  ${v.kind.padEnd(9)} ${String(v.documents).padStart(7)} docs ${String(v.chunks).padStart(8)} chunks  ${v.model}  ${JSON.stringify(v.index)}  ${v.note}\n`,
        );
      }
    });

  withCollectionOptions(
    program
      .command('rollback')
      .description('without a version: return to the generation that was live before (model upgrade undone); with one: make that earlier version of the content current again (recorded as a new version)')
      .argument('[version]', 'version number from `quarry versions`', intArg(1, Number.MAX_SAFE_INTEGER)),
  )
    .option('--json', 'print JSON')
    .action(async (version: number | undefined, o: CollectionFlags & { json?: boolean }) => {
      if (version === undefined) {
        const r = await rollbackGeneration(collectionOptions(o));
        if (o.json) return printJson(r);
        return printSwitch(r, 'rolled back');
      }
      const v = await rollback(version, collectionOptions(o));
      if (o.json) return printJson(v);
      process.stdout.write(`version ${v.version} is current: ${v.note} (${v.documents} docs, ${v.chunks} chunks)\n`);
    });
}
