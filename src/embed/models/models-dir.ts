/** Where provisioned models live. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$QUARRY_MODELS` when set and non-empty, else `~/.cache/quarry/models`. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.QUARRY_MODELS?.trim();
  return fromEnv ? fromEnv : join(homedir(), '.cache', 'quarry', 'models');
}
