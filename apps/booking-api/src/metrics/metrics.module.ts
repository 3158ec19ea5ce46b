import { Module, type OnModuleInit } from '@nestjs/common';
import { CacheService } from '@app/redis';
import { RedisMetricsModule, RedisMetricsService } from '@app/redis/metrics';
import { MetricsController } from './metrics.controller.js';

/** Serves `/metrics`, including the availability cache's hit and miss counters. */
@Module({
  imports: [RedisMetricsModule.forRoot()],
  controllers: [MetricsController],
})
export class MetricsModule implements OnModuleInit {
  constructor(
    private readonly metrics: RedisMetricsService,
    private readonly cache: CacheService,
  ) {}

  onModuleInit(): void {
    this.metrics.addCacheCounters(() => this.cache.stats());
  }
}
