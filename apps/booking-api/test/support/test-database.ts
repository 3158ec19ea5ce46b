import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the app tests use (`TEST_DATABASE_URL`), trust auth on the local server by default. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A schema of its own for one test file, so files run in parallel on one database; `drop()` removes it and
 * everything in it. The app creates the schema itself (its migrations), given `DATABASE_SCHEMA`.
 */
export class TestSchema {
  readonly name: string;

  constructor(tag: string) {
    this.name = `t_${tag.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
  }

  /** Runs SQL against the test database with the schema on the search path (for fixtures and assertions). */
  async query<Row extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${this.name}` });
    await client.connect();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  async drop(): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
  }
}
