/**
 * The audit log: one line per administrative action (keys, collections, model generations),
 * saying when, who (the key id over HTTP, the OS user on the command line), what, on which
 * target, and how it ended. `<dataDir>/audit.log`, JSON Lines.
 *
 * Appending is the only write quarry ever makes to it: the file is opened with O_APPEND and
 * each entry goes out in one write() followed by fsync. O_APPEND makes the kernel place each
 * write at the end of the file atomically, so entries from concurrent processes (a server and
 * a `quarry keys` run) never interleave, and the fsync means an action reported as done is on
 * disk. quarry never rewrites, truncates or rotates the file. To rotate it, move it away: the
 * next append creates a fresh one (copy-and-truncate would lose what is appended in between).
 *
 * A crash (or a full disk) can tear at most the last line. Reading reports such a line and goes
 * on; the next append first ends the torn line, so it never swallows a later entry.
 */
import { createReadStream, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidInputError, QuarryError, isQuarryError } from '../errors.js';
import { appendLine } from '../store/atomic-file.js';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditAction, type AuditOutcome } from './audit-names.js';

export const AUDIT_FILE = 'audit.log';

export { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditAction, type AuditOutcome };

export interface AuditEntry {
  /** When the action ended (ISO 8601, UTC). */
  time: string;
  /** `key:<id>` over HTTP, `local:<os user>` from the command line. */
  actor: string;
  action: AuditAction;
  /** The collection's name, or `key:<id>` for key actions. */
  target: string;
  outcome: AuditOutcome;
  /** The action overrode a safety check (e.g. a promotion past a failed gate). */
  forced?: boolean;
  detail?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface AuditFilter {
  action?: string;
  target?: string;
  /** ISO 8601 date or time: entries at or after it. */
  since?: string;
  /** The newest N entries that match (returned oldest first). */
  limit?: number;
}

/** A line that could not be read as an entry. */
export interface AuditProblem {
  line: number;
  reason: string;
}

export class AuditLogError extends QuarryError {
  constructor(file: string, message: string, cause?: unknown) {
    super('AUDIT_LOG_FAILED', 'unavailable', message, { file }, { cause });
  }
}

export function auditFileOf(dataDir: string): string {
  return join(resolve(dataDir), AUDIT_FILE);
}

/** `local:<os user name>`, or `local` where the OS does not say (no passwd entry in a container). */
export function defaultActor(): string {
  try {
    const name = userInfo().username;
    return name ? `local:${name}` : 'local';
  } catch {
    return 'local';
  }
}

/** A full API key (`qk_<id>_<secret>`) anywhere in an entry keeps its id and loses its secret. */
const KEY_PATTERN = /qk_([0-9a-f]{12})_[0-9a-f]{64}/g;
export function redactSecrets(text: string): string {
  return text.replace(KEY_PATTERN, 'qk_$1_[redacted]');
}

/** Bounds on what one entry carries, so a hostile or huge value cannot bloat the log. */
const MAX_TARGET_CHARS = 256;
const MAX_MESSAGE_CHARS = 2000;
const MAX_DETAIL_CHARS = 8000;

/** Redacted before it is cut, so a cut can never leave part of a secret behind. */
function clip(s: string, max: number): string {
  const r = redactSecrets(String(s));
  return r.length > max ? `${r.slice(0, max)}…` : r;
}

function serialize(e: AuditEntry): string {
  const entry: AuditEntry = {
    time: e.time,
    actor: clip(e.actor, MAX_TARGET_CHARS),
    action: e.action,
    target: clip(e.target, MAX_TARGET_CHARS),
    outcome: e.outcome,
    ...(e.forced !== undefined ? { forced: e.forced } : {}),
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.error ? { error: { code: e.error.code, message: clip(e.error.message, MAX_MESSAGE_CHARS) } } : {}),
  };
  if (entry.detail !== undefined && JSON.stringify(entry.detail).length > MAX_DETAIL_CHARS) {
    entry.detail = { truncated: true, keys: Object.keys(entry.detail).slice(0, 50) };
  }
  // Redacting the serialized line catches a key wherever it hides (detail, error message).
  return redactSecrets(JSON.stringify(entry)) + '\n';
}

/**
 * Appends one entry and fsyncs it (and the folder, when this created the file). Throws
 * AuditLogError when it cannot: an administrative action must not be reported done unless
 * its record is on disk.
 */
export async function appendAudit(dataDir: string, e: Omit<AuditEntry, 'time'>): Promise<void> {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(e.action)) throw new InvalidInputError(`unknown audit action ${JSON.stringify(e.action)}`);
  const dir = resolve(dataDir);
  const file = auditFileOf(dir);
  const line = serialize({ time: new Date().toISOString(), ...e });
  try {
    await appendLine(file, line, 0o600);
  } catch (err) {
    throw new AuditLogError(file, `cannot append to the audit log ${file}: ${(err as Error).message}`, err);
  }
}

function validateFilter(f: AuditFilter): { since?: number } {
  if (f.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(f.action)) {
    throw new InvalidInputError(`unknown audit action ${JSON.stringify(f.action)}; one of ${AUDIT_ACTIONS.join(', ')}`, { field: 'action' });
  }
  if (f.limit !== undefined && (!Number.isInteger(f.limit) || f.limit < 1)) {
    throw new InvalidInputError(`limit must be a positive integer, got ${f.limit}`, { field: 'limit' });
  }
  if (f.since === undefined) return {};
  // Only ISO 8601 (a date, or a date and time): Date.parse alone would also take "March 3".
  const since = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(f.since) ? Date.parse(f.since) : NaN;
  if (Number.isNaN(since)) throw new InvalidInputError(`since must be an ISO 8601 date or time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z), got ${JSON.stringify(f.since)}`, { field: 'since' });
  return { since };
}

function isEntry(x: unknown): x is AuditEntry {
  const e = x as AuditEntry;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.time === 'string' &&
    typeof e.actor === 'string' &&
    typeof e.action === 'string' &&
    typeof e.target === 'string' &&
    (AUDIT_OUTCOMES as readonly string[]).includes(e.outcome)
  );
}

/**
 * The entries that match, oldest first, and the lines that could not be read (a torn last line
 * after a crash): reported, never fatal. Streams the file, keeping only `limit` entries.
 */
export async function readAuditLog(
  dataDir: string,
  filter: AuditFilter = {},
  /** A further test applied before `limit` (the server keeps what the key may see). */
  keep?: (e: AuditEntry) => boolean,
): Promise<{ file: string; entries: AuditEntry[]; problems: AuditProblem[] }> {
  const { since } = validateFilter(filter);
  const file = auditFileOf(dataDir);
  const entries: AuditEntry[] = [];
  const problems: AuditProblem[] = [];
  if (!existsSync(file)) return { file, entries, problems };
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push({ line: n, reason: 'not valid JSON: an entry torn by a crash or a full disk' });
      continue;
    }
    if (!isEntry(parsed)) {
      problems.push({ line: n, reason: 'not an audit entry (time, actor, action, target, outcome)' });
      continue;
    }
    if (filter.action !== undefined && parsed.action !== filter.action) continue;
    if (filter.target !== undefined && parsed.target !== filter.target) continue;
    if (since !== undefined && !(Date.parse(parsed.time) >= since)) continue;
    if (keep && !keep(parsed)) continue;
    entries.push(parsed);
    if (filter.limit !== undefined && entries.length > filter.limit) entries.shift();
  }
  return { file, entries, problems };
}

/** The entries that match, oldest first (readAuditLog also says which lines it skipped). */
export async function readAudit(dataDir: string, filter?: AuditFilter): Promise<AuditEntry[]> {
  return (await readAuditLog(dataDir, filter)).entries;
}

/** refused: quarry declined (the caller can fix it); failed: anything else. */
export function outcomeOf(e: unknown): Exclude<AuditOutcome, 'ok'> {
  return isQuarryError(e) && (e.category === 'invalid-input' || e.category === 'conflict' || e.category === 'not-found') ? 'refused' : 'failed';
}

export function errorOf(e: unknown): { code: string; message: string } {
  if (isQuarryError(e)) return { code: e.code, message: e.message };
  const err = e as { code?: unknown; message?: unknown } | null;
  return { code: typeof err?.code === 'string' ? err.code : 'INTERNAL', message: String(err?.message ?? e) };
}

/**
 * Runs `fn` and records it: one entry with outcome ok, refused (a QuarryError of category
 * invalid-input, conflict or not-found) or failed (anything else), then returns or rethrows.
 * `detail` may be a function of the result (used for ok only). When the action failed and its
 * record cannot be written either, the action's own error is the one thrown: it says more.
 */
export async function audited<T>(
  dataDir: string,
  entry: { actor?: string; action: AuditAction; target: string; forced?: boolean; detail?: Record<string, unknown> | ((r: T) => Record<string, unknown>) },
  fn: () => Promise<T>,
): Promise<T> {
  const base = {
    actor: entry.actor ?? defaultActor(),
    action: entry.action,
    target: entry.target,
    ...(entry.forced !== undefined ? { forced: entry.forced } : {}),
  };
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    const detail = typeof entry.detail === 'function' ? undefined : entry.detail;
    await appendAudit(dataDir, { ...base, outcome: outcomeOf(e), ...(detail ? { detail } : {}), error: errorOf(e) }).catch(() => undefined);
    throw e;
  }
  const detail = typeof entry.detail === 'function' ? entry.detail(result) : entry.detail;
  try {
    await appendAudit(dataDir, { ...base, outcome: 'ok', ...(detail ? { detail } : {}) });
  } catch (e) {
    const file = auditFileOf(dataDir);
    throw new AuditLogError(file, `${entry.action} of ${entry.target} was done, but could not be recorded in the audit log: ${(e as Error).message}`, e);
  }
  return result;
}
