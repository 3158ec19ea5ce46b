import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Database } from './database.js';

/** Health of the store: a `SELECT 1` answered within `timeout` ms. Never includes the connection string. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly db: Database,
  ) {}

  /**
   * @param key the name under which the result appears in the health body
   * @param options.timeout how long the round trip may take
   * @default options.timeout 1000
   */
  async isHealthy<Key extends string>(key: Key, { timeout = 1_000 }: { timeout?: number } = {}) {
    const indicator = this.indicators.check(key);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Database did not answer within ${timeout} ms`)), timeout);
        }),
      ]);
      return indicator.up({ engine: this.db.engine, latencyMs: Date.now() - started });
    } catch (error) {
      // pg's messages name hosts and users at most, never passwords; the timeout message is ours.
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
