/** Runs one SQL statement with `$1…$n` parameters and returns its rows. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/**
 * The store booking-api talks to: PostgreSQL through `pg` ({@link PgDatabase}) or an embedded PGlite
 * ({@link PgliteDatabase}), with the same SQL. Injected by this class; tests reach it with `app.get(Database)`.
 */
export abstract class Database implements Queryable {
  /** Which engine answers, for logs and the health check. */
  abstract readonly engine: 'postgres' | 'pglite';

  abstract query<Row extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (and the error rethrown).
   */
  abstract transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;

  abstract close(): Promise<void>;
}
