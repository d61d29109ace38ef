import { Option, type Command } from 'commander';

/** Options every collection command takes. */
export function withCollectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data <dir>', 'folder holding collections').default('.quarry'))
    .addOption(new Option('--collection <name>', 'collection name').default('default'))
    .addOption(new Option('--models <dir>', 'folder holding provisioned models (default $QUARRY_MODELS or ~/.cache/quarry/models)'));
}
