/**
 * API keys: each has a scope (read < write < admin, or metrics) and the collections it may
 * touch (names, or "*" for all). `metrics` stands apart from the chain: it allows only the
 * operations views (/metrics, /readyz's detail) of its collections, for a scraper that must
 * not read documents; admin allows those views too. `<dataDir>/keys.json` (mode 0600, replaced atomically) holds only a salted
 * hash of each key's secret, never the secret: the key is shown once, when it is created.
 *
 * A key reads `qk_<id>_<secret>`: the id (12 hex digits) finds its record in O(1), the secret
 * (256 random bits, hex) is checked against the record's hash in constant time. The hash is
 * SHA-256 over a per-key salt and the secret, not a slow password hash (scrypt): slow hashing
 * protects guessable passwords, and a 256-bit random secret cannot be guessed, while every
 * request pays for the check.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidInputError, QuarryError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { validateCollectionName } from '../store/collection.js';

export const SCOPES = ['read', 'write', 'admin', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];
export const ALL_COLLECTIONS = '*';
export const KEYS_FILE = 'keys.json';

const FORMAT = 'quarry-keys';
const FORMAT_VERSION = 1;
const KEY_RE = /^qk_([0-9a-f]{12})_([0-9a-f]{64})$/;

interface StoredKey {
  id: string;
  scope: Scope;
  collections: string[];
  createdAt: string;
  label?: string;
  salt: string;
  hash: string;
}

interface KeysFileContent {
  format: typeof FORMAT;
  version: number;
  keys: StoredKey[];
}

/** What is known about a key without its secret. */
export interface KeyInfo {
  id: string;
  scope: Scope;
  /** Collection names, or ["*"] for all. */
  collections: string[];
  createdAt: string;
  label?: string;
}

export class KeysFileError extends QuarryError {
  constructor(path: string, problem: string) {
    super('KEYS_FILE_DAMAGED', 'integrity', `${path}: ${problem}; fix or remove it and create keys again`, { file: path });
  }
}

export function keysFileOf(dataDir: string): string {
  return join(resolve(dataDir), KEYS_FILE);
}

/** The chain where each scope allows what the ones before it allow. */
const CHAIN: readonly Scope[] = ['read', 'write', 'admin'];

export function scopeAllows(have: Scope, need: Scope): boolean {
  if (need === 'metrics') return have === 'metrics' || have === 'admin';
  if (have === 'metrics') return false;
  return CHAIN.indexOf(have) >= CHAIN.indexOf(need);
}

export function keyCoversCollection(key: KeyInfo, collection: string): boolean {
  return key.collections.includes(ALL_COLLECTIONS) || key.collections.includes(collection);
}

function hashSecret(salt: string, secret: string): Buffer {
  return createHash('sha256').update(Buffer.from(salt, 'hex')).update(secret, 'utf8').digest();
}

function infoOf(k: StoredKey): KeyInfo {
  return { id: k.id, scope: k.scope, collections: [...k.collections], createdAt: k.createdAt, ...(k.label ? { label: k.label } : {}) };
}

function parseFile(path: string, raw: string): StoredKey[] {
  let content: KeysFileContent;
  try {
    content = JSON.parse(raw) as KeysFileContent;
  } catch {
    throw new KeysFileError(path, 'is not valid JSON');
  }
  if (content?.format !== FORMAT || !Array.isArray(content.keys)) throw new KeysFileError(path, 'is not a quarry keys file');
  if (content.version > FORMAT_VERSION) throw new KeysFileError(path, `has version ${content.version}; this quarry reads up to ${FORMAT_VERSION}`);
  for (const k of content.keys) {
    if (!/^[0-9a-f]{12}$/.test(k?.id) || !SCOPES.includes(k.scope) || !Array.isArray(k.collections) || !/^[0-9a-f]{32}$/.test(k.salt) || !/^[0-9a-f]{64}$/.test(k.hash)) {
      throw new KeysFileError(path, `holds a malformed key record${typeof k?.id === 'string' ? ` (${k.id})` : ''}`);
    }
  }
  return content.keys;
}

async function readKeys(path: string): Promise<StoredKey[]> {
  if (!existsSync(path)) return [];
  return parseFile(path, readFileSync(path, 'utf8'));
}

async function writeKeys(path: string, keys: StoredKey[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const content: KeysFileContent = { format: FORMAT, version: FORMAT_VERSION, keys };
  await writeFileAtomic(path, JSON.stringify(content, null, 2) + '\n', 0o600);
}

/** Creates a key; returns the key itself (shown once, never stored) and its record. */
export async function createKey(path: string, opts: { scope: string; collections: string[]; label?: string }): Promise<{ key: string; info: KeyInfo }> {
  if (!SCOPES.includes(opts.scope as Scope)) {
    throw new InvalidInputError(`scope must be one of ${SCOPES.join(', ')}, got "${opts.scope}"`, { field: 'scope' });
  }
  if (!Array.isArray(opts.collections) || opts.collections.length === 0) {
    throw new InvalidInputError(`name the collections the key may use (--collection NAME, repeatable), or "${ALL_COLLECTIONS}" for all`, { field: 'collection' });
  }
  const collections = [...new Set(opts.collections)].map((c) => (c === ALL_COLLECTIONS ? c : validateCollectionName(c)));
  if (opts.label !== undefined && (opts.label.length > 200 || /[\u0000-\u001f]/.test(opts.label))) {
    throw new InvalidInputError('label must be at most 200 characters without control characters', { field: 'label' });
  }
  const keys = await readKeys(path);
  let id: string;
  do id = randomBytes(6).toString('hex');
  while (keys.some((k) => k.id === id));
  const secret = randomBytes(32).toString('hex');
  const salt = randomBytes(16).toString('hex');
  const record: StoredKey = {
    id,
    scope: opts.scope as Scope,
    collections: collections.includes(ALL_COLLECTIONS) ? [ALL_COLLECTIONS] : collections,
    createdAt: new Date().toISOString(),
    ...(opts.label ? { label: opts.label } : {}),
    salt,
    hash: hashSecret(salt, secret).toString('hex'),
  };
  await writeKeys(path, [...keys, record]);
  return { key: `qk_${id}_${secret}`, info: infoOf(record) };
}

export async function listKeys(path: string): Promise<KeyInfo[]> {
  return (await readKeys(path)).map(infoOf);
}

/** Removes a key by id; it stops working at once (the server rereads the file when it changes). */
export async function revokeKey(path: string, id: string): Promise<boolean> {
  const keys = await readKeys(path);
  const kept = keys.filter((k) => k.id !== id);
  if (kept.length === keys.length) return false;
  await writeKeys(path, kept);
  return true;
}

/**
 * The server's view of the keys file: reread whenever it changes on disk (a stat per check,
 * so `quarry keys revoke` takes effect on the next request), and a lookup that answers in
 * constant time whether or not the id exists.
 */
export class KeyStore {
  private byId = new Map<string, StoredKey>();
  private stamp = '';
  /** Why the file could not be read, while it cannot (every key is refused meanwhile). */
  problem: string | null = null;
  private readonly dummySalt = randomBytes(16).toString('hex');
  private readonly dummyHash = randomBytes(32);

  /** `onProblem` hears once each time the file turns unreadable (the server logs it). */
  constructor(
    readonly path: string,
    private readonly onProblem?: (problem: string) => void,
  ) {}

  private refresh(): void {
    let stamp = 'missing';
    try {
      const st = statSync(this.path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // no file: no keys
    }
    if (stamp === this.stamp) return;
    try {
      const keys = stamp === 'missing' ? [] : parseFile(this.path, readFileSync(this.path, 'utf8'));
      this.byId = new Map(keys.map((k) => [k.id, k]));
      this.problem = null;
    } catch (e) {
      // A damaged file must not leave revoked keys working: refuse every key until it is fixed.
      this.byId = new Map();
      this.problem = (e as Error).message;
      this.onProblem?.(this.problem);
    }
    this.stamp = stamp;
  }

  get size(): number {
    this.refresh();
    return this.byId.size;
  }

  /** Mode bits of the file that others could read (0 when fine or missing). */
  looseMode(): number {
    try {
      return statSync(this.path).mode & 0o077;
    } catch {
      return 0;
    }
  }

  /** The key's record when `presented` is a valid key, else null. */
  verify(presented: string): KeyInfo | null {
    this.refresh();
    const m = KEY_RE.exec(presented);
    const stored = m ? this.byId.get(m[1]) : undefined;
    // Hash and compare even for an unknown id, so timing does not tell which ids exist.
    const digest = hashSecret(stored?.salt ?? this.dummySalt, m?.[2] ?? presented);
    const expected = stored ? Buffer.from(stored.hash, 'hex') : this.dummyHash;
    const same = timingSafeEqual(digest, expected);
    return stored && same ? infoOf(stored) : null;
  }
}
