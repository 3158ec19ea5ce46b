import { Logger } from '@nestjs/common';
import pg from 'pg';
import { Database, type Queryable } from './database.js';
import { asUnavailable } from './database-unavailable.error.js';
import type { DatabaseConfig } from '../config/api-config.interface.js';

/** How long taking a connection from the pool may wait before the query fails. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * The same on a single-session server (`DATABASE_SINGLE_SESSION`): there a new connection's start-up queues behind
 * every statement of every client, so a burst (the demo's 200 bookings, with two worker replicas also connected)
 * can take longer than 5 s to get one on a loaded machine, and would answer 500 for a slow queue, not a dead server.
 */
const SINGLE_SESSION_CONNECT_TIMEOUT_MS = 30_000;

/** {@link Database} on PostgreSQL through a `pg` pool. */
export class PgDatabase extends Database {
  readonly engine = 'postgres';
  private readonly logger = new Logger(PgDatabase.name);
  private readonly pool: pg.Pool;
  private readonly singleSession: boolean;

  constructor(config: DatabaseConfig & { url: string }) {
    super();
    this.singleSession = config.singleSession;
    this.pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.singleSession ? SINGLE_SESSION_CONNECT_TIMEOUT_MS : CONNECT_TIMEOUT_MS,
      // Set at connection start-up, so every pooled connection sees the schema before its first statement.
      options: config.schema ? `-c search_path=${config.schema}` : undefined,
    });
    // An idle connection dropped by the server must not crash the process: the pool replaces it on next use.
    this.pool.on('error', (error) => this.logger.warn(`Idle database connection failed: ${error.message}`));
  }

  async query<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]> {
    if (this.singleSession) return this.transaction((tx) => tx.query<Row>(sql, params));
    try {
      return (await this.pool.query<Row>(sql, params)).rows;
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => Promise.reject(asUnavailable(error)));
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work({
        query: async <Row extends object>(sql: string, params?: unknown[]) =>
          (await client.query<Row>(sql, params)).rows,
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw asUnavailable(error);
    } finally {
      // A connection that could not roll back is destroyed rather than handed to the next caller mid-transaction.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
