import { Module } from '@nestjs/common';
import { RedisMetricsModule } from '@app/redis/metrics';
import { MetricsController } from './metrics.controller.js';

/** Serves `/metrics`: the library's metrics, the availability cache's hit and miss counters included. */
@Module({
  imports: [RedisMetricsModule.forRoot()],
  controllers: [MetricsController],
})
export class MetricsModule {}
