import type { Command } from 'commander';
import { deleteDocuments } from '../../api/delete-documents.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson } from '../output.js';
import { collectionOptions, type CollectionFlags } from './parse.js';

export function registerDelete(program: Command): void {
  withCollectionOptions(
    program.command('delete').description('remove documents by id from the collection (a new version; `gc` frees the space)').argument('<docIds...>', 'document ids (see `quarry search --json`)'),
  )
    .option('--json', 'print JSON')
    .action(async (docIds: string[], o: CollectionFlags & { json?: boolean }) => {
      const r = await deleteDocuments(docIds, collectionOptions(o));
      if (o.json) return printJson(r);
      for (const id of r.notFound) process.stderr.write(`quarry: not in the collection: ${id}\n`);
      process.stdout.write(`deleted ${r.deleted.length} document(s)${r.generation ? `, now version ${r.generation}` : ''}\n`);
    });
}
