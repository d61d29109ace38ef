import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemCard } from '../../api/card.js';
import { InvalidInputError } from '../../errors.js';
import { writeFileAtomic } from '../../store/atomic-file.js';
import { withCollectionOptions } from '../collection-options.js';
import { collectionOptions, type CollectionFlags } from './parse.js';

/** `quarry card`: the collection's system card, generated from its stored state. */
export function registerCard(program: Command): void {
  withCollectionOptions(
    program
      .command('card')
      .description("write the collection's system card (Markdown): data and lineage, model and fingerprint check, chunking, index, evaluations, alerts, limitations, versions"),
  )
    .option('--out <file>', 'write it to this file (atomically) instead of stdout')
    .option('--no-verify', "do not load the model to check its fingerprint (the card then says it was not checked)")
    .option('--json', 'print the facts the card is rendered from, as JSON')
    .action(async (o: CollectionFlags & { out?: string; verify: boolean; json?: boolean }) => {
      if (o.out !== undefined) {
        const dir = dirname(resolve(o.out));
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InvalidInputError(`--out ${o.out}: the folder ${dir} does not exist`, { field: 'out' });
      }
      const { markdown, facts } = await systemCard({ ...collectionOptions(o), verifyModel: o.verify });
      const text = o.json ? JSON.stringify(facts, null, 2) + '\n' : markdown;
      if (o.out === undefined) return void process.stdout.write(text);
      await writeFileAtomic(o.out, text);
      process.stderr.write(`quarry: wrote the system card of "${facts.collection}" to ${o.out}\n`);
    });
}
