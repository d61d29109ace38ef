import type { Command } from 'commander';
import { info } from '../../api/info.js';
import { describeAnnFreshness } from '../../store/collection-index.js';
import { withCollectionOptions } from '../collection-options.js';
import { printJson } from '../output.js';
import { collectionOptions, type CollectionFlags } from './parse.js';

export function registerInfo(program: Command): void {
  withCollectionOptions(program.command('info').description('what a collection holds and which model built it'))
    .option('--json', 'print one JSON object')
    .action(async (o: CollectionFlags & { json?: boolean }) => {
      const i = await info(collectionOptions(o));
      if (o.json) return printJson(i);
      const m = i.model;
      process.stdout.write(
        [
          `collection   ${i.collection}  (${i.path})`,
          `documents    ${i.documents}`,
          `chunks       ${i.chunks}  (${i.chunking.chunkTokens} tokens, ${i.chunking.overlapTokens} overlap)`,
          `model        ${m.id}  ${m.variant}, ${m.dims} dims, ${m.pooling} pooling, max ${m.maxSeqLength} tokens`,
          `  revision   ${m.revision} (${m.source})`,
          `  weights    sha256 ${m.weightsSha256}`,
          `  tokenizer  sha256 ${m.tokenizerSha256}`,
          `  fingerprint ${i.fingerprint.probes} probes (${i.fingerprint.probeSet})`,
          `index        ${i.index.type}${i.index.params ? ' ' + JSON.stringify(i.index.params) : ''}, ${i.index.vectors} vectors` +
            (i.ann.fallback ? ` (${i.ann.fallback})` : `, recall@10 ${i.ann.recallAt10}${i.ann.type === 'flat' ? ' (exact)' : ` on ${i.ann.recallQueries} queries (floor ${i.ann.recallFloor}), ${describeAnnFreshness(i.ann)}`}`),
          `version      ${i.version}`,
          `disk         ${(i.disk.totalBytes / 1e6).toFixed(2)} MB (vectors ${(i.disk.vectorBytes / 1e6).toFixed(2)} MB, metadata ${(i.disk.metadataBytes / 1e6).toFixed(2)} MB)`,
          '',
        ].join('\n'),
      );
    });
}
