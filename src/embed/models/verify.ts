/**
 * Checks a model folder against the manifest. One code path for resolve, list, provision and
 * pull, so "verified" means the same thing everywhere.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelIntegrityError, ModelNotProvisionedError } from '../../errors.js';
import { provisionHint } from './hints.js';
import { specOf } from './manifest.js';
import { describeExpected, matches, supportCandidates, weightCandidates, type Candidate } from './pins.js';
import { MODEL_VARIANTS, type ManifestModel, type ModelVariant, type ResolvedModel } from './types.js';
import { VerifyCache } from './verify-cache.js';

export interface FileCheck {
  rel: string;
  path: string;
  state: 'ok' | 'missing' | 'mismatch' | 'unchecked';
  sha256?: string;
  size?: number;
  /** The pin it matched (state ok). */
  match?: Candidate;
  candidates: Candidate[];
}

export interface Inspection {
  id: string;
  variant: ModelVariant;
  dir: string;
  weights: FileCheck;
  support: FileCheck[];
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Looks at every file the variant needs. With `hashWhenIncomplete: false` nothing is hashed
 * once a file is known to be missing (resolve fails anyway; no point reading 90 MB first).
 */
export async function inspectVariant(
  id: string,
  model: ManifestModel,
  variant: ModelVariant,
  modelsDir: string,
  opts: { hashWhenIncomplete: boolean },
): Promise<Inspection> {
  const dir = join(modelsDir, model.folder);
  const weightsRel = model.variants[variant]!.file;
  const mk = (rel: string, candidates: Candidate[]): FileCheck => ({ rel, path: join(dir, rel), state: 'unchecked', candidates });
  const weights = mk(weightsRel, weightCandidates(model, variant));
  const support = Object.keys(model.files).map((rel) => mk(rel, supportCandidates(model, rel)));
  const all = [...support, weights];

  for (const f of all) if (!(await exists(f.path))) f.state = 'missing';
  if (!opts.hashWhenIncomplete && all.some((f) => f.state === 'missing')) return { id, variant, dir, weights, support };

  const cache = await VerifyCache.open(dir);
  try {
    for (const f of all) {
      if (f.state === 'missing') continue;
      const h = await cache.hash(f.rel);
      if (!h) {
        f.state = 'missing'; // vanished since the existence check
        continue;
      }
      f.sha256 = h.sha256;
      f.size = h.size;
      f.match = f.candidates.find((c) => matches(c, h.sha256, h.size));
      f.state = f.match ? 'ok' : 'mismatch';
    }
  } finally {
    await cache.save();
  }
  return { id, variant, dir, weights, support };
}

/** Variants whose weights file is on disk (not necessarily verified): for "use X instead" hints. */
export async function variantsOnDisk(model: ManifestModel, modelsDir: string): Promise<ModelVariant[]> {
  const out: ModelVariant[] = [];
  for (const v of MODEL_VARIANTS) {
    const file = model.variants[v]?.file;
    if (file && (await exists(join(modelsDir, model.folder, file)))) out.push(v);
  }
  return out;
}

/** Turns an inspection into a ResolvedModel, or the error that says exactly what is wrong and what to run. */
export async function toResolved(insp: Inspection, model: ManifestModel, modelsDir: string): Promise<ResolvedModel> {
  const { id, variant, dir, weights, support } = insp;
  const all = [...support, weights];
  const missing = all.filter((f) => f.state === 'missing');
  if (missing.length > 0) {
    const parts: string[] = [`${dir} lacks ${missing.map((f) => f.rel).join(', ')}`];
    if (weights.state === 'missing') {
      const others = (await variantsOnDisk(model, modelsDir)).filter((v) => v !== variant);
      if (others.length > 0) parts.push(`the ${others.join(' and ')} variant is on disk (use \`${id}:${others[0]}\`)`);
    }
    parts.push(provisionHint(id, model, variant));
    const err = new ModelNotProvisionedError(`${id} (${variant})`, modelsDir, parts.join('; '));
    Object.assign(err.details, { variant, dir, missing: missing.map((f) => f.rel) });
    throw err;
  }
  const bad = all.find((f) => f.state !== 'ok');
  if (bad) {
    const err = new ModelIntegrityError(id, bad.path, describeExpected(bad.candidates), bad.sha256 ?? 'unknown');
    Object.assign(err.details, { variant, dir, bytes: bad.size });
    throw err;
  }
  const byRel = new Map(support.map((f) => [f.rel, f]));
  const source = weights.match!.source!;
  const sources = model.sources;
  return {
    spec: specOf(id, model),
    variant,
    dir,
    weightsPath: weights.path,
    tokenizerPath: join(dir, model.tokenizer),
    weightsSha256: weights.sha256!,
    tokenizerSha256: byRel.get(model.tokenizer)!.sha256!,
    configSha256: byRel.get(model.config)!.sha256!,
    source,
    revision: source === 'hub' ? sources.hub!.revision : `${source}:${weights.match!.origin ?? 'unknown'}`,
  };
}

/** inspect + toResolved: the strict check every consumer uses. */
export async function verifyVariant(id: string, model: ManifestModel, variant: ModelVariant, modelsDir: string): Promise<ResolvedModel> {
  const insp = await inspectVariant(id, model, variant, modelsDir, { hashWhenIncomplete: false });
  return toResolved(insp, model, modelsDir);
}
