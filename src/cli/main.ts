import { Command, CommanderError, Option } from 'commander';
import { registerAudit } from './commands/audit-command.js';
import { registerCard } from './commands/card-command.js';
import { registerCluster } from './commands/cluster-command.js';
import { registerDelete } from './commands/delete-command.js';
import { registerEval } from './commands/eval-command.js';
import { registerIndex } from './commands/index-command.js';
import { registerMaintenance } from './commands/maintenance-commands.js';
import { registerVersions } from './commands/versions-command.js';
import { registerGenerations } from './commands/generations-command.js';
import { registerInfo } from './commands/info-command.js';
import { registerModels } from './commands/models-command.js';
import { registerSearch } from './commands/search-command.js';
import { registerServe } from './commands/serve-command.js';
import { registerKeys } from './commands/keys-command.js';
import { registerVerify } from './commands/verify-command.js';
import { reportError } from './output.js';

export { withCollectionOptions } from './collection-options.js';

/** The CLI: thin adapters over the library verbs in src/api (the same calls users import). */
export function buildProgram(): Command {
  const program = new Command('quarry')
    .description('Semantic search you can trust: index folders, search by meaning, refuse to be silently wrong.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerIndex(program);
  registerSearch(program);
  registerEval(program);
  registerInfo(program);
  registerVerify(program);
  registerDelete(program);
  registerVersions(program);
  registerGenerations(program);
  registerMaintenance(program);
  registerModels(program);
  registerServe(program);
  registerKeys(program);
  registerAudit(program);
  registerCard(program);
  registerCluster(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportError(e, json);
  }
}
