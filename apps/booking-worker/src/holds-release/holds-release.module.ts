import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { PgDatabase } from '../../../booking-api/src/database/pg-database.js';
import { traceQueries } from '../../../booking-api/src/database/traced-database.js';
import { demoTracingEnabled } from '../../../booking-management/src/index.js';
import { WORKER_CONFIG } from '../config/worker-config.constants.js';
import type { WorkerConfig } from '../config/worker-config.interface.js';
import { WorkerConfigModule } from '../config/worker-config.module.js';
import { HOLDS_RELEASE_REPOSITORY } from './holds-release.constants.js';
import { HoldsReleaseController } from './holds-release.controller.js';
import { HoldsReleaseJob } from './holds-release.job.js';
import { ExpiringHolds } from './expiring-holds.js';
import { HoldsReleaseRepository } from './holds-release.repository.js';
import { HoldsReleaseRuns } from './holds-release.runs.js';

/** Token of the worker's connection pool to booking-api's database (`null` without `DATABASE_URL`). */
const WORKER_DATABASE = 'booking-worker:database';

/**
 * The scheduled release of expired holds (needs `ScheduleModule.forRoot()` and `RedisScheduleModule` at the root)
 * and its run log. It works on booking-api's database, whose migrations booking-api applies; until they are, a
 * run fails and is recorded as failed.
 */
@Module({
  imports: [WorkerConfigModule],
  controllers: [HoldsReleaseController],
  providers: [
    {
      provide: WORKER_DATABASE,
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => {
        if (!config.database) {
          new Logger(HoldsReleaseModule.name).warn('No DATABASE_URL: expired holds will not be released.');
          return null;
        }
        const db = new PgDatabase(config.database);
        // With TRACES_FILE set, a span per statement and transaction of the release job.
        return demoTracingEnabled() ? traceQueries(db) : db;
      },
    },
    {
      provide: HOLDS_RELEASE_REPOSITORY,
      inject: [WORKER_DATABASE],
      useFactory: (db: PgDatabase | null) => (db ? new HoldsReleaseRepository(db) : null),
    },
    HoldsReleaseRuns,
    ExpiringHolds,
    HoldsReleaseJob,
  ],
})
export class HoldsReleaseModule implements OnApplicationShutdown {
  constructor(@Inject(WORKER_DATABASE) private readonly db: PgDatabase | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db?.close();
  }
}
