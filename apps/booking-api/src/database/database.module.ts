import { demoTracingEnabled } from '../../../booking-management/src/index.js';
import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { API_CONFIG } from '../config/api-config.constants.js';
import type { ApiConfig } from '../config/api-config.interface.js';
import { ApiConfigModule } from '../config/api-config.module.js';
import { Database } from './database.js';
import { DatabaseUnavailableFilter } from './database-unavailable.filter.js';
import { migrate } from './migrations.js';
import { PgDatabase } from './pg-database.js';
import { PgliteDatabase } from './pglite-database.js';
import { seedDemoData } from './seed-demo-data.js';
import { traceQueries } from './traced-database.js';

/**
 * Opens the store named by the configuration, applies pending migrations and (on request) seeds the demo data, all
 * before the app takes traffic; closes it on shutdown.
 */
async function openDatabase(config: ApiConfig): Promise<Database> {
  const logger = new Logger('Database');
  const { database } = config;
  const db = database.url ? new PgDatabase({ ...database, url: database.url }) : await PgliteDatabase.create();
  try {
    const applied = await migrate(db, database.schema);
    logger.log(
      `Using ${db.engine === 'pglite' ? 'the embedded PGlite (in memory)' : 'PostgreSQL'}; ` +
        (applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema up to date'),
    );
    if (config.seedDemoData) {
      await seedDemoData(db);
      logger.log('Seeded the demo venues and slots (SEED_DEMO_DATA).');
    }
    // With TRACES_FILE set, a span per statement and transaction (see traceQueries), from the first request on.
    return demoTracingEnabled() ? traceQueries(db) : db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

/** Provides {@link Database} to the whole app, and answers 503 when it is unavailable. */
@Global()
@Module({
  imports: [ApiConfigModule],
  providers: [
    { provide: Database, inject: [API_CONFIG], useFactory: openDatabase },
    { provide: APP_FILTER, useClass: DatabaseUnavailableFilter },
  ],
  exports: [Database],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(Database) private readonly db: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
