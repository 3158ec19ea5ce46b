import { Module } from '@nestjs/common';
import { RedisMetricsModule } from '@app/redis/metrics';
import { MetricsController } from './metrics.controller.js';

/** Serves `/metrics`. */
@Module({
  imports: [RedisMetricsModule.forRoot()],
  controllers: [MetricsController],
})
export class MetricsModule {}
