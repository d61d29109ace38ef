/**
 * The one SQLite binding quarry uses, behind a small wrapper; nothing else imports it.
 *
 * Why @photostructure/sqlite: it is Node's own `node:sqlite` API (DatabaseSync) with prebuilt
 * binaries for Linux, macOS and Windows (x64 and arm64) inside the npm package, so `npm install`
 * compiles nothing and downloads nothing past the registry. better-sqlite3, used before, fetches
 * its prebuilt binary from GitHub and otherwise compiles with node-gyp, which needs Node's
 * headers (another download): on a machine that reaches only the npm registry, a fresh install
 * failed. Measured on the CI machine kind (2 cores): `npm ci` took 2 min 4 s of CPU with
 * better-sqlite3 compiling, 41 s without (empty HOME; the rest of the wall time is downloads).
 * When Node 22 is the floor, `node:sqlite` drops in for it unchanged.
 *
 * Closing, written here because the binding gets it wrong: its `close()` cannot finalize the
 * statements prepared on the connection (1.x has no `finalize()`, and close does not track them),
 * so SQLite leaves the connection open as a "zombie" until the garbage collector frees the last
 * statement. A zombie keeps its file descriptors and locks, and when it finally closes it may
 * checkpoint and delete `-wal` and `-shm` *by path*: if the collection's folder was renamed
 * meanwhile (a promoted generation, a deleted and recreated collection), those paths now belong
 * to another database, whose committed transactions would be lost. So `close()` cuts every
 * statement loose, closes, forces one collection and waits for the native finalizers (which
 * Node-API runs in the next turn of the event loop): when it resolves, nothing of the connection
 * is left. tests/sqlite-locks.test.ts checks that no descriptor survives.
 *
 * Through the package's own `enhance()` (better-sqlite3's `transaction`, nested as savepoints). Written here: rows as plain objects (node:sqlite gives null-prototype objects, which
 * compare unequal to object literals), typed statements, and errors whose `code` is SQLite's own
 * name for the failure ('SQLITE_FULL', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_BUSY'...), as
 * the callers test it, instead of node:sqlite's generic 'ERR_SQLITE_ERROR'.
 */
import { DatabaseSync, enhance, type StatementSyncInstance } from '@photostructure/sqlite';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type SqlValue = null | number | bigint | string | Uint8Array;
/** Positional values, or one object of named values (`@name` in the SQL, key without the `@`). */
export type SqlParams = readonly unknown[];

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** Turns a SQLite error (its `code` already SQLite's name) into what the caller wants thrown. */
export type SqliteErrorMapper = (e: Error & { code?: string }) => unknown;

/** SQLite's fixed messages (sqlite3_errstr) for the failures callers act on, where an error lost its code. */
const CODE_BY_MESSAGE: ReadonlyArray<[RegExp, string]> = [
  [/database disk image is malformed/, 'SQLITE_CORRUPT'],
  [/file is not a database/, 'SQLITE_NOTADB'],
  [/database or disk is full/, 'SQLITE_FULL'],
  [/database is locked/, 'SQLITE_BUSY'],
  [/attempt to write a readonly database/, 'SQLITE_READONLY'],
];

/** Runs `fn`; a SQLite error leaves with `code` set to SQLite's name for it (see above), through `map`. */
function sql<T>(fn: () => T, map?: SqliteErrorMapper): T {
  try {
    return fn();
  } catch (e) {
    const err = e as Error & { code?: string; sqliteCodeName?: string };
    if (typeof err?.sqliteCodeName === 'string' && err.sqliteCodeName.startsWith('SQLITE_')) err.code = err.sqliteCodeName;
    else if (err?.code === 'ERR_SQLITE_ERROR') err.code = CODE_BY_MESSAGE.find(([re]) => re.test(err.message))?.[1] ?? err.code;
    throw map ? map(err) : e;
  }
}

/** The garbage collector, made callable once (what `--expose-gc` gives, without the flag). */
let collectGarbage: (() => void) | undefined;
function gc(): void {
  if (!collectGarbage) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collectGarbage = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collectGarbage = runInNewContext('gc') as () => void;
    }
  }
  collectGarbage();
}

/** One collection serves every close of the same turn (a server closing several handles at once). */
let releasing: Promise<void> | null = null;
function releaseClosedConnections(): Promise<void> {
  releasing ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      releasing = null;
      gc();
      // Node-API runs the statements' finalizers (sqlite3_finalize, which ends the zombie) in an
      // immediate queued during the collection; this one runs after it
      setImmediate(resolve);
    }),
  );
  return releasing;
}

/** A prepared statement; `R` is the row type its queries return. */
export class Statement<R = unknown> {
  private stmt: StatementSyncInstance | null;

  constructor(
    stmt: StatementSyncInstance,
    private readonly map?: SqliteErrorMapper,
  ) {
    this.stmt = stmt;
  }

  private live(): StatementSyncInstance {
    if (!this.stmt) throw new Error('SQLite statement used after its database was closed');
    return this.stmt;
  }

  /** Drops the native statement (its connection is closing), so the collector can finalize it. */
  detach(): void {
    this.stmt = null;
  }

  get(...params: SqlParams): R | undefined {
    const row = sql(() => this.live().get(...(params as never[])), this.map) as object | undefined;
    return row === undefined ? undefined : ({ ...row } as R);
  }

  all(...params: SqlParams): R[] {
    return (sql(() => this.live().all(...(params as never[])), this.map) as object[]).map((row) => ({ ...row }) as R);
  }

  /** Integers come back as numbers (readBigInts is off), so row ids fit a number. */
  run(...params: SqlParams): RunResult {
    const r = sql(() => this.live().run(...(params as never[])), this.map);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }
}

export class SqliteDb {
  private readonly db;
  private readonly map?: SqliteErrorMapper;
  /** Every statement prepared here and not yet collected, to cut loose at close. */
  private statements = new Set<WeakRef<Statement<unknown>>>();
  private pruneAt = 256;

  /**
   * `readonly` also requires the file to exist (SQLite would otherwise create an empty one);
   * `mapError` sees every SQLite error of this connection and its statements (e.g. to report
   * corruption as damage rather than as a bug).
   */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean; mapError?: SqliteErrorMapper } = {},
  ) {
    this.map = opts.mapError;
    this.db = sql(() => enhance(new DatabaseSync(path, { readOnly: opts.readonly ?? false })), this.map);
  }

  prepare<R = unknown>(text: string): Statement<R> {
    const stmt = new Statement<R>(sql(() => this.db.prepare(text), this.map), this.map);
    this.statements.add(new WeakRef(stmt as Statement<unknown>));
    if (this.statements.size >= this.pruneAt) {
      // statements prepared per call are collected as they go; forget their references
      for (const ref of this.statements) if (!ref.deref()) this.statements.delete(ref);
      this.pruneAt = Math.max(256, this.statements.size * 2);
    }
    return stmt;
  }

  exec(text: string): void {
    sql(() => this.db.exec(text), this.map);
  }

  /** `PRAGMA source`: its rows, or with `simple` the first column of the first row. */
  pragma(source: string, opts?: { simple: true }): unknown {
    // through this wrapper's statements, so its errors keep their code (enhance's pragma drops it)
    const rows = this.prepare<Record<string, unknown>>(`PRAGMA ${source}`).all();
    return opts?.simple ? (rows[0] === undefined ? undefined : Object.values(rows[0])[0]) : rows;
  }

  /**
   * Runs `fn` in a transaction (a plain, deferred BEGIN: quarry has one writer per collection,
   * held by its lock file), or, inside one, in a savepoint; commits on return, rolls back on a
   * throw. Read-only handles use it for a consistent snapshot.
   */
  transaction<T>(fn: () => T): T {
    return sql(() => this.db.transaction(fn)(), this.map);
  }

  /** Closes the connection for good: when this resolves, no descriptor or lock of it is left (see above). */
  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    for (const ref of this.statements) ref.deref()?.detach();
    this.statements = new Set();
    this.db.close();
    await releaseClosedConnections();
  }
}
