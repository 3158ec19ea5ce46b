import { Module } from '@nestjs/common';
import { RedisModule } from '@app/redis';
import { BookingEventsModule } from './booking-events/booking-events.module.js';
import { WORKER_CONFIG } from './config/worker-config.constants.js';
import type { WorkerConfig } from './config/worker-config.interface.js';
import { WorkerConfigModule } from './config/worker-config.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

/**
 * Root module of booking-worker: the booking-events handlers (fed by `RedisTransportServer` in streams mode, see
 * `configureWorker`), their HTTP reports, the health endpoints and `/metrics`.
 */
@Module({
  imports: [
    WorkerConfigModule,
    RedisModule.forRootAsync({
      imports: [WorkerConfigModule],
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => config.redis,
    }),
    BookingEventsModule,
    HealthModule,
    MetricsModule,
  ],
})
export class WorkerModule {}
