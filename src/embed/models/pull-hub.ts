/**
 * `quarry models pull`: the model's files from its pinned Hugging Face repo and commit
 * (`{endpoint}/{repo}/resolve/{revision}/{path}`), each checked against the manifest before it
 * gets its real name. Files already present and verified are not downloaded again.
 */
import { access, rmdir } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { ProvisioningError } from '../../errors.js';
import { downloadVerified } from './download.js';
import { provisionHint } from './hints.js';
import { loadManifest, modelEntry, parseModelRef, pickVariant } from './manifest.js';
import { defaultModelsDir } from './models-dir.js';
import { hubSupportPin, matches, supportCandidates, weightCandidates, type Candidate } from './pins.js';
import type { RegistryOptions } from './resolve.js';
import { UNPINNED, type FilePin, type ManifestModel, type ModelVariant } from './types.js';
import { VerifyCache } from './verify-cache.js';
import { verifyVariant } from './verify.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

export interface PullOptions extends RegistryOptions {
  /** Default: $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: the ref's `:variant`, else the model's default variant. */
  variant?: ModelVariant | 'all';
  fetchImpl?: typeof fetch;
  onProgress?: (p: { file: string; received: number; total?: number }) => void;
  /** @internal where HF_ENDPOINT is read from (tests). */
  env?: NodeJS.ProcessEnv;
  /** @internal retry tuning (tests). */
  retry?: { attempts?: number; delayMs?: number; stallTimeoutMs?: number };
}

interface PlannedFile {
  rel: string;
  pin: FilePin;
  /** Any of these on disk already counts as done (e.g. the PyPI int8 file). */
  accepted: Candidate[];
}

function hubVariants(id: string, model: ManifestModel, fromRef: ModelVariant | undefined, requested: PullOptions['variant']): ModelVariant[] {
  const hub = model.sources.hub!;
  const pinned = (v: ModelVariant) => {
    const file = model.variants[v]?.file;
    return !!file && !!hub.weights[file] && hub.weights[file].sha256 !== UNPINNED;
  };
  if (requested === 'all') {
    const all = (Object.keys(model.variants) as ModelVariant[]).filter(pinned);
    if (all.length === 0) throw new ProvisioningError(`model ${id}: ${hub.repo} has no pinned weights in models/manifest.json`, { model: id });
    return all;
  }
  const variant = pickVariant(id, model, fromRef, requested);
  if (!pinned(variant)) {
    throw new ProvisioningError(`model ${id}: no pinned ${variant} weights from ${hub.repo}; ${provisionHint(id, model, variant)}`, {
      model: id,
      variant,
    });
  }
  return [variant];
}

function planFiles(model: ManifestModel, variants: ModelVariant[]): PlannedFile[] {
  const hub = model.sources.hub!;
  // Small files first: a wrong revision or repo fails before a 90 MB download.
  const plan: PlannedFile[] = Object.keys(model.files).map((rel) => ({
    rel,
    pin: hubSupportPin(model, rel)!,
    accepted: supportCandidates(model, rel),
  }));
  for (const v of variants) {
    const rel = model.variants[v]!.file;
    plan.push({ rel, pin: hub.weights[rel], accepted: weightCandidates(model, v) });
  }
  return plan;
}

export function hubFileUrl(endpoint: string, repo: string, revision: string, rel: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${revision}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

export async function pullFromHub(ref: string, opts: PullOptions = {}): Promise<{ files: string[]; skipped: string[] }> {
  const manifest = opts.manifest ?? loadManifest();
  const { id, variant: fromRef } = parseModelRef(ref, manifest);
  const model = modelEntry(manifest, id);
  const hub = model.sources.hub;
  if (!hub) {
    const hint = provisionHint(id, model, fromRef ?? model.defaultVariant);
    throw new ProvisioningError(`model ${id} has no Hugging Face hub source in models/manifest.json; ${hint}`, { model: id });
  }
  const variants = hubVariants(id, model, fromRef, opts.variant);
  const modelsDir = resolvePath(opts.modelsDir ?? defaultModelsDir());
  const dir = join(modelsDir, model.folder);
  const endpoint = opts.endpoint ?? (opts.env ?? process.env).HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT;
  const dirExisted = await access(dir).then(
    () => true,
    () => false,
  );

  const files: string[] = [];
  const skipped: string[] = [];
  const cache = await VerifyCache.open(dir);
  try {
    for (const f of planFiles(model, variants)) {
      const path = join(dir, f.rel);
      const have = await cache.hash(f.rel);
      if (have && f.accepted.some((c) => matches(c, have.sha256, have.size))) {
        skipped.push(path);
        continue;
      }
      const got = await downloadVerified({
        url: hubFileUrl(endpoint, hub.repo, hub.revision, f.rel),
        dest: path,
        pin: f.pin,
        model: id,
        file: f.rel,
        fetchImpl: opts.fetchImpl,
        onProgress: opts.onProgress,
        attempts: opts.retry?.attempts,
        retryDelayMs: opts.retry?.delayMs,
        stallTimeoutMs: opts.retry?.stallTimeoutMs,
      });
      await cache.record(f.rel, got.sha256); // hashed while streaming: no second read
      files.push(path);
    }
  } catch (e) {
    if (!dirExisted && files.length === 0) await removeEmptyDirs(dir, planFiles(model, variants));
    throw e;
  } finally {
    await cache.save();
  }
  // The same strict check resolveModel does, so "pulled" means "resolvable".
  for (const v of variants) await verifyVariant(id, model, v, modelsDir);
  return { files, skipped };
}

/** A failed first pull leaves no empty folders behind either. */
async function removeEmptyDirs(dir: string, plan: PlannedFile[]): Promise<void> {
  const dirs = new Set(plan.map((f) => dirname(join(dir, f.rel))));
  const deepestFirst = [...dirs, dir].sort((a, b) => b.length - a.length);
  for (const d of deepestFirst) await rmdir(d).catch(() => undefined);
}
