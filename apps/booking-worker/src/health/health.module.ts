import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/redis/health';
import { HealthController } from './health.controller.js';

/** The health routes; the Redis indicator reuses the global `RedisModule` connections. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
