import { PGlite } from '@electric-sql/pglite';
import { Database, type Queryable } from './database.js';

/**
 * {@link Database} on an embedded PGlite (PostgreSQL compiled to WebAssembly), in memory unless `dataDir` is given.
 * One process only: replicas need PostgreSQL, or this database served over the wire (see `src/demo`).
 */
export class PgliteDatabase extends Database {
  readonly engine = 'pglite';

  private constructor(readonly pglite: PGlite) {
    super();
  }

  /**
   * @param dataDir where to keep the files; in memory when omitted
   */
  static async create(dataDir?: string): Promise<PgliteDatabase> {
    return new PgliteDatabase(await PGlite.create(dataDir));
  }

  async query<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]> {
    return (await this.pglite.query<Row>(sql, params)).rows;
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction((tx) =>
      work({
        query: async <Row extends object>(sql: string, params?: unknown[]) => (await tx.query<Row>(sql, params)).rows,
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}
