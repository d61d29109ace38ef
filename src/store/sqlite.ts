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
 * compare unequal to object literals), and typed statements.
 */
import { DatabaseSync, enhance, type StatementSyncInstance } from '@photostructure/sqlite';

export type SqlValue = null | number | bigint | string | Uint8Array;
/** Positional values, or one object of named values (`@name` in the SQL, key without the `@`). */
export type SqlParams = readonly unknown[];

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** A prepared statement; `R` is the row type its queries return. */
export class Statement<R = unknown> {
  constructor(private readonly stmt: StatementSyncInstance) {}

  get(...params: SqlParams): R | undefined {
    const row = this.stmt.get(...(params as never[])) as object | undefined;
    return row === undefined ? undefined : ({ ...row } as R);
  }

  all(...params: SqlParams): R[] {
    return (this.stmt.all(...(params as never[])) as object[]).map((row) => ({ ...row }) as R);
  }

  /** Integers come back as numbers (readBigInts is off), so row ids fit a number. */
  run(...params: SqlParams): RunResult {
    const r = this.stmt.run(...(params as never[]));
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
    this.db = enhance(new DatabaseSync(path, { readOnly: opts.readonly ?? false }));
  }

  prepare<R = unknown>(sql: string): Statement<R> {
    return new Statement<R>(this.db.prepare(sql));
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** `PRAGMA source`: its rows, or with `simple` the first column of the first row. */
  pragma(source: string, opts?: { simple: true }): unknown {
    return this.db.pragma(source, opts);
  }

  /**
   * Runs `fn` in a transaction (a plain, deferred BEGIN: quarry has one writer per collection,
   * held by its lock file), or, inside one, in a savepoint; commits on return, rolls back on a
   * throw. Read-only handles use it for a consistent snapshot.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
