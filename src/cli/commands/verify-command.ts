import type { Command } from 'commander';
import { verify } from '../../api/verify.js';
import { withCollectionOptions } from '../collection-options.js';
import { EXIT_CODES, printJson } from '../output.js';
import { collectionOptions, floatArg, type CollectionFlags } from './parse.js';

export function registerVerify(program: Command): void {
  withCollectionOptions(
    program.command('verify').description("re-embed the collection's probe sentences and compare with its stored fingerprint"),
  )
    .option('--model <id>', 'check this model instead of the collection\'s own (an upgrade candidate)')
    .option('--threshold <x>', 'lowest acceptable cosine per probe', floatArg(0, 1), 0.95)
    .option('--json', 'print one JSON object')
    .action(async (o: CollectionFlags & { model?: string; threshold: number; json?: boolean }) => {
      const r = await verify({ ...collectionOptions(o), model: o.model, threshold: o.threshold });
      if (o.json) printJson(r);
      else {
        for (const p of r.perProbe) process.stdout.write(`${p.cosine.toFixed(6)}  ${JSON.stringify(p.probe).slice(0, 70)}\n`);
        for (const d of r.identityDifferences) process.stdout.write(`identity differs: ${d}\n`);
        process.stdout.write(
          `${r.passed ? 'OK' : 'FAILED'}: ${r.candidate} against the fingerprint of "${r.collection}": ` +
            `min cosine ${r.minCosine.toFixed(6)}, mean ${r.meanCosine.toFixed(6)}, threshold ${r.threshold}\n`,
        );
      }
      if (!r.passed) process.exitCode = EXIT_CODES.integrity;
    });
}
