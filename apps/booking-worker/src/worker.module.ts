import { Module } from '@nestjs/common';
import { RedisModule } from '@app/redis';
import { WORKER_CONFIG } from './config/worker-config.constants.js';
import type { WorkerConfig } from './config/worker-config.interface.js';
import { WorkerConfigModule } from './config/worker-config.module.js';
import { HealthModule } from './health/health.module.js';

/**
 * Root module of booking-worker. For now an HTTP app that only reports its health; the Redis transport consumer
 * joins it later.
 */
@Module({
  imports: [
    WorkerConfigModule,
    RedisModule.forRootAsync({
      imports: [WorkerConfigModule],
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => config.redis,
    }),
    HealthModule,
  ],
})
export class WorkerModule {}
