import type { GateResult, GateRow } from './store/gate-result.js';

/**
 * quarry's error catalog. Every error a user can cause or meet is one of these classes,
 * with a stable `code` and a `category` from a small closed set, so callers (CLI, HTTP,
 * library users) can act on the category without parsing messages.
 */

/** What the user can do about it. */
export type ErrorCategory =
  | 'invalid-input' // fix the request / arguments
  | 'not-found' // create or provision the thing first
  | 'conflict' // someone else holds it, or it disagrees with what is stored
  | 'integrity' // bytes on disk are not what they should be: re-provision / restore
  | 'unavailable' // a resource (model, file, network) cannot be reached right now
  | 'internal'; // a bug: report it

export class QuarryError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown>;

  constructor(
    code: string,
    category: ErrorCategory,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.category = category;
    this.details = details;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, category: this.category, message: this.message, ...this.details };
  }
}

export class InvalidInputError extends QuarryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_INPUT', 'invalid-input', message, details);
  }
}

export class CollectionNotFoundError extends QuarryError {
  constructor(name: string, dataDir: string) {
    super(
      'COLLECTION_NOT_FOUND',
      'not-found',
      `collection "${name}" does not exist in ${dataDir}; create it with \`quarry index <paths> --collection ${name} --data ${dataDir}\``,
      { collection: name, dataDir },
    );
  }
}

export class CollectionExistsError extends QuarryError {
  constructor(name: string, dataDir: string) {
    super('COLLECTION_EXISTS', 'conflict', `collection "${name}" already exists in ${dataDir}; choose another name, or delete it first`, {
      collection: name,
      dataDir,
    });
  }
}

export class CollectionLockedError extends QuarryError {
  constructor(name: string, lockPath: string, holder: string) {
    super(
      'COLLECTION_LOCKED',
      'conflict',
      `collection "${name}" is being written by another process (${holder}); wait for it to finish, or remove ${lockPath} if that process is gone`,
      { collection: name, lockPath, holder },
    );
  }
}

/**
 * Bytes of a collection are not what was recorded. The message names the file and, given
 * `remedy` in details, what to do (docs/failure-modes.md): derived files (indexes, BM25) and
 * vectors are rebuilt by `quarry repair`; a damaged meta.sqlite (the source of truth) is
 * restored from a backup.
 */
export class CollectionCorruptError extends QuarryError {
  /** What is wrong, without the collection prefix and the remedy (`quarry check` lists these). */
  readonly problem: string;

  constructor(name: string, problem: string, details: Record<string, unknown> = {}) {
    const remedy = typeof details.remedy === 'string' ? `; ${details.remedy}` : '';
    super('COLLECTION_CORRUPT', 'integrity', `collection "${name}" is damaged: ${problem}${remedy}`, {
      collection: name,
      ...details,
    });
    this.problem = problem;
  }
}

export class ModelNotProvisionedError extends QuarryError {
  constructor(model: string, modelsDir: string, hint: string) {
    super('MODEL_NOT_PROVISIONED', 'not-found', `model ${model} is not in ${modelsDir}: ${hint}`, {
      model,
      modelsDir,
    });
  }
}

export class UnknownModelError extends QuarryError {
  constructor(model: string, known: string[]) {
    super('UNKNOWN_MODEL', 'invalid-input', `unknown model "${model}"; known models: ${known.join(', ')}`, {
      model,
      known,
    });
  }
}

export class ModelIntegrityError extends QuarryError {
  constructor(model: string, file: string, expected: string, actual: string) {
    super(
      'MODEL_INTEGRITY',
      'integrity',
      `model ${model}: ${file} has sha256 ${actual}, expected ${expected}; the file is damaged or not the pinned one, provision the model again`,
      { model, file, expected, actual },
    );
  }
}

/**
 * The guard against the seeds' 3AM incident: a collection's vectors were made by one model,
 * and something tried to use another with them.
 */
export class ModelMismatchError extends QuarryError {
  constructor(collection: string, stored: string, requested: string, differences: string[]) {
    super(
      'MODEL_MISMATCH',
      'conflict',
      `collection "${collection}" was built with ${stored}, but ${requested} was requested (${differences.join('; ')}); ` +
        `query with the collection's own model, or rebuild the collection with the new one`,
      { collection, stored, requested, differences },
    );
  }
}

/** The model loads, but its output no longer matches the fingerprint stored with the collection. */
export class ModelDriftError extends QuarryError {
  constructor(collection: string, model: string, minCosine: number, threshold: number) {
    super(
      'MODEL_DRIFT',
      'integrity',
      `model ${model} no longer reproduces the fingerprint stored with collection "${collection}": ` +
        `lowest probe cosine ${minCosine.toFixed(4)} < ${threshold}; the runtime or weights changed, rebuild the collection before serving it`,
      { collection, model, minCosine, threshold },
    );
  }
}

export class DownloadError extends QuarryError {
  constructor(url: string, reason: string) {
    super('DOWNLOAD_FAILED', 'unavailable', `download of ${url} failed: ${reason}`, { url, reason });
  }
}

export class ProvisioningError extends QuarryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PROVISIONING_FAILED', 'unavailable', message, details);
  }
}

/** A source file that cannot be loaded. Ingest reports it with its path and goes on. */
export class LoadError extends QuarryError {
  constructor(path: string, reason: string, code = 'LOAD_FAILED') {
    super(code, 'invalid-input', `${path}: ${reason}`, { path, reason });
  }
}

/** Paths given to index that do not exist: refused before anything (a collection, a folder) is created. */
export class PathNotFoundError extends QuarryError {
  constructor(paths: string[]) {
    super(
      'PATH_NOT_FOUND',
      'not-found',
      paths.length === 1
        ? `${paths[0]} does not exist; nothing was indexed and nothing was created (check the path)`
        : `none of the paths to index exist (${paths.join(', ')}); nothing was indexed and nothing was created`,
      { paths },
    );
  }
}

/** What a write run left behind when it stopped early: the version that holds its work, or none. */
export interface CommittedState {
  collection: string;
  /** The collection's newest version after the stop (null: it has none). */
  version: number | null;
  /** Whether that version was made by this run (false: this run committed nothing). */
  madeByThisRun: boolean;
  /** Documents this run made live (added or updated) in that version. */
  documents: number;
}

/** One sentence saying what a stopped run committed and that nothing partial is visible. */
export function describeCommitted(s: CommittedState): string {
  if (s.madeByThisRun) {
    return `version ${s.version} of collection "${s.collection}" holds the ${s.documents} document(s) this run committed; no partly written document is visible`;
  }
  return `nothing was committed; collection "${s.collection}" ${s.version === null ? 'has no version yet' : `stays at version ${s.version}`} and nothing partial is visible`;
}

/** An index run stopped by a signal (Ctrl-C, SIGTERM) or an AbortSignal. */
export class IndexInterruptedError extends QuarryError {
  constructor(
    readonly reason: string,
    readonly committed: CommittedState,
  ) {
    super('INTERRUPTED', 'unavailable', `stopped by ${reason}: ${describeCommitted(committed)}; run the same command again to finish (unchanged documents are skipped)`, {
      reason,
      ...committed,
    });
  }
}

/** The disk (or quota) holding a file quarry writes is full: the write in progress was not committed. */
export class DiskFullError extends QuarryError {
  constructor(
    readonly path: string,
    /** What the stopped run committed, or a sentence saying what became of it. */
    outcome?: CommittedState | string,
    options?: { cause?: unknown },
  ) {
    super(
      'DISK_FULL',
      'unavailable',
      `no space left on the device holding ${path}: the write in progress was not committed` +
        (outcome === undefined ? '' : `; ${typeof outcome === 'string' ? outcome : describeCommitted(outcome)}`) +
        '; free space (or raise the quota) and run the command again',
      { path, ...(typeof outcome === 'object' ? outcome : {}) },
      options,
    );
  }
}

/** Whether an error is a full disk or quota: ENOSPC/EDQUOT from the file system, SQLITE_FULL from SQLite. */
export function isDiskFull(e: unknown): boolean {
  if (e instanceof DiskFullError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** A promotion with no shadow generation built. */
export class NoShadowError extends QuarryError {
  constructor(collection: string) {
    super(
      'NO_SHADOW',
      'not-found',
      `collection "${collection}" has no shadow generation to promote; build one with \`quarry reindex --collection ${collection} --model <id>\``,
      { collection },
    );
  }
}

/** The promotion gate refused the shadow: worse than live beyond the tolerance. Live is untouched. */
export class GateRefusedError extends QuarryError {
  constructor(readonly gate: GateResult) {
    const fmt = (r: GateRow) => `generation ${r.generation} (${r.model}): nDCG@10 ${r['ndcg@10'].toFixed(4)}, Recall@100 ${r['recall@100'].toFixed(4)}`;
    super(
      'GATE_REFUSED',
      'conflict',
      `shadow is worse than live by more than ${gate.tolerance} on ${gate.queries} held-out queries (${gate.mode} search); live is unchanged.\n` +
        `  live:   ${fmt(gate.live)}\n  shadow: ${fmt(gate.shadow)}\n` +
        'Reindex with other settings, or promote anyway with --force (written to the audit log).',
      { gate },
    );
  }
}

/**
 * An error answer of quarry's HTTP API that names no error of the library (authentication,
 * access, limits, a collection not serving, admission control): its status and the server's
 * code, so a client branches on them as it would on the answer itself.
 */
export class ApiError extends QuarryError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, categoryOfStatus(status), message, { status, ...details });
  }
}

/** The category an HTTP status means for the caller. */
export function categoryOfStatus(status: number): ErrorCategory {
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid-input';
  return 'internal';
}

/** A request to quarry's HTTP API that did not finish in time (retries included). */
export class RequestTimeoutError extends QuarryError {
  constructor(method: string, url: string, timeoutMs: number, attempts: number) {
    super(
      'REQUEST_TIMEOUT',
      'unavailable',
      `${method} ${url} did not finish within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'}); the server is slow or overloaded: retry later, or raise the client's timeoutMs`,
      { method, url, timeoutMs, attempts },
    );
  }
}

/** quarry's HTTP API could not be reached at all (refused, reset, no such host). */
export class ServerUnreachableError extends QuarryError {
  constructor(method: string, url: string, reason: string, options?: { cause?: unknown }) {
    super('SERVER_UNREACHABLE', 'unavailable', `${method} ${url} failed: ${reason}; is \`quarry serve\` running at that address?`, { method, url, reason }, options);
  }
}

export function isQuarryError(e: unknown): e is QuarryError {
  return e instanceof QuarryError;
}
