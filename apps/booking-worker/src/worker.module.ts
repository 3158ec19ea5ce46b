import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RedisModule } from '@app/redis';
import { RedisScheduleModule } from '@app/redis/schedule';
import { demoTracingImports } from '../../booking-management/src/index.js';
import { BookingEventsModule } from './booking-events/booking-events.module.js';
import { WORKER_CONFIG } from './config/worker-config.constants.js';
import type { WorkerConfig } from './config/worker-config.interface.js';
import { WorkerConfigModule } from './config/worker-config.module.js';
import { HealthModule } from './health/health.module.js';
import { HoldsReleaseModule } from './holds-release/holds-release.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

/**
 * Root module of booking-worker: the booking-events handlers (fed by `RedisTransportServer` in streams mode, see
 * `configureWorker`), their HTTP reports, the scheduled release of expired holds (one replica per tick), the health
 * endpoints and `/metrics`.
 */
@Module({
  imports: [
    WorkerConfigModule,
    RedisModule.forRootAsync({
      imports: [WorkerConfigModule],
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => config.redis,
    }),
    ScheduleModule.forRoot(),
    RedisScheduleModule,
    BookingEventsModule,
    HoldsReleaseModule,
    HealthModule,
    MetricsModule,
    // Spans of the handlers (children of the API's emit, through the traceparent in the packet) and of the
    // Redis work when TRACES_FILE is set; nothing otherwise.
    ...demoTracingImports(),
  ],
})
export class WorkerModule {}
