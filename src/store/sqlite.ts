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
 * Through the package's own `enhance()` (better-sqlite3's `transaction`, nested as savepoints, and
 * `pragma`). Written here: rows as plain objects (node:sqlite gives null-prototype objects, which
 * compare unequal to object literals), typed statements, and errors whose `code` is SQLite's own
 * name for the failure ('SQLITE_FULL', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_BUSY'...), as
 * the callers test it, instead of node:sqlite's generic 'ERR_SQLITE_ERROR'.
 */
import { DatabaseSync, enhance, type StatementSyncInstance } from '@photostructure/sqlite';

export type SqlValue = null | number | bigint | string | Uint8Array;
/** Positional values, or one object of named values (`@name` in the SQL, key without the `@`). */
export type SqlParams = readonly unknown[];

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** Runs `fn`; a SQLite error leaves with `code` set to SQLite's name for it (see above). */
function sql<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as { code?: string; sqliteCodeName?: string };
    if (typeof err?.sqliteCodeName === 'string' && err.sqliteCodeName.startsWith('SQLITE_')) err.code = err.sqliteCodeName;
    throw e;
  }
}

/** A prepared statement; `R` is the row type its queries return. */
export class Statement<R = unknown> {
  constructor(private readonly stmt: StatementSyncInstance) {}

  get(...params: SqlParams): R | undefined {
    const row = sql(() => this.stmt.get(...(params as never[]))) as object | undefined;
    return row === undefined ? undefined : ({ ...row } as R);
  }

  all(...params: SqlParams): R[] {
    return (sql(() => this.stmt.all(...(params as never[]))) as object[]).map((row) => ({ ...row }) as R);
  }

  /** Integers come back as numbers (readBigInts is off), so row ids fit a number. */
  run(...params: SqlParams): RunResult {
    const r = sql(() => this.stmt.run(...(params as never[])));
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }
}

export class SqliteDb {
  private readonly db;

  /** `readonly` also requires the file to exist (SQLite would otherwise create an empty one). */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean } = {},
  ) {
    this.db = sql(() => enhance(new DatabaseSync(path, { readOnly: opts.readonly ?? false })));
  }

  prepare<R = unknown>(text: string): Statement<R> {
    return new Statement<R>(sql(() => this.db.prepare(text)));
  }

  exec(text: string): void {
    sql(() => this.db.exec(text));
  }

  /** `PRAGMA source`: its rows, or with `simple` the first column of the first row. */
  pragma(source: string, opts?: { simple: true }): unknown {
    return sql(() => this.db.pragma(source, opts));
  }

  /**
   * Runs `fn` in a transaction (a plain, deferred BEGIN: quarry has one writer per collection,
   * held by its lock file), or, inside one, in a savepoint; commits on return, rolls back on a
   * throw. Read-only handles use it for a consistent snapshot.
   */
  transaction<T>(fn: () => T): T {
    return sql(() => this.db.transaction(fn)());
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
