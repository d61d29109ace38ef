/** resolveModel and listModels: the read-only side of the registry (never downloads anything). */
import { resolve as resolvePath } from 'node:path';
import { loadManifest, modelEntry, parseModelRef, pickVariant } from './manifest.js';
import { defaultModelsDir } from './models-dir.js';
import type { Manifest, ModelVariant, ResolvedModel } from './types.js';
import { inspectVariant, verifyVariant } from './verify.js';

export interface RegistryOptions {
  modelsDir?: string;
  /** @internal tests pass a small manifest instead of models/manifest.json. */
  manifest?: Manifest;
}

/**
 * The model's files, each checked (size + sha256, via the verification cache) against the manifest.
 * Resolves exactly the variant asked for (ref suffix or opts.variant), else the default one; it never
 * falls back to another variant: a missing one is an error that names the variant that is on disk.
 */
export async function resolveModel(ref: string, opts: RegistryOptions & { variant?: ModelVariant } = {}): Promise<ResolvedModel> {
  const manifest = opts.manifest ?? loadManifest();
  const { id, variant: fromRef } = parseModelRef(ref, manifest);
  const model = modelEntry(manifest, id);
  const variant = pickVariant(id, model, fromRef, opts.variant);
  return verifyVariant(id, model, variant, resolvePath(opts.modelsDir ?? defaultModelsDir()));
}

export interface ModelListing {
  id: string;
  variant: ModelVariant;
  status: 'ready' | 'missing' | 'corrupt';
  /** Source of the weights on disk, when they match a pin. */
  source?: string;
  /** Size of the weights file on disk. */
  bytes?: number;
}

/** Every known model and variant with its state on disk. corrupt > missing > ready. */
export async function listModels(opts: RegistryOptions = {}): Promise<ModelListing[]> {
  const manifest = opts.manifest ?? loadManifest();
  const modelsDir = resolvePath(opts.modelsDir ?? defaultModelsDir());
  const out: ModelListing[] = [];
  for (const [id, model] of Object.entries(manifest.models)) {
    for (const variant of Object.keys(model.variants) as ModelVariant[]) {
      const insp = await inspectVariant(id, model, variant, modelsDir, { hashWhenIncomplete: true });
      const files = [...insp.support, insp.weights];
      const status = files.some((f) => f.state === 'mismatch') ? 'corrupt' : files.some((f) => f.state === 'missing') ? 'missing' : 'ready';
      const row: ModelListing = { id, variant, status };
      if (insp.weights.match?.source) row.source = insp.weights.match.source;
      if (insp.weights.size !== undefined) row.bytes = insp.weights.size;
      out.push(row);
    }
  }
  return out;
}
