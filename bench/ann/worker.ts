/**
 * One system x one configuration, in a process of its own, so its memory is measured from a
 * clean baseline and a crash costs one row: node --expose-gc dist/bench/ann/worker.js
 * <quarry|usearch|lancedb> <config id> <n>. Prints the SystemResult as the last line of stdout.
 */
import { CONFIGS } from './configs.js';
import { loadDataset } from './dataset.js';
import type { SystemName, SystemResult } from './measure.js';

const [system, configId, nArg] = process.argv.slice(2);

async function main(): Promise<void> {
  const cfg = CONFIGS.find((c) => c.id === configId);
  if (!cfg) throw new Error(`unknown config ${configId}`);
  const ds = loadDataset(Number(nArg));
  let result: SystemResult;
  switch (system as SystemName) {
    case 'quarry':
      result = await (await import('./quarry-runner.js')).runQuarry(cfg, ds);
      break;
    case 'usearch':
      result = await (await import('./usearch-runner.js')).runUsearch(cfg, ds);
      break;
    case 'lancedb':
      result = await (await import('./lancedb-runner.js')).runLanceDb(cfg, ds);
      break;
    default:
      throw new Error(`unknown system ${system}`);
  }
  process.stdout.write('\n' + JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  // A row that cannot run (an index type not built yet, a crash) is reported, with the reason.
  process.stderr.write((e instanceof Error ? (e.stack ?? e.message) : String(e)) + '\n');
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const failed: SystemResult = { system: system as SystemName, config: configId, available: false, reason, points: [], notes: [] };
  process.stdout.write('\n' + JSON.stringify(failed) + '\n');
  process.exit(1);
});
