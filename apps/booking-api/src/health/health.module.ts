import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/redis/health';
import { DatabaseHealthIndicator } from '../database/database.health.js';
import { HealthController } from './health.controller.js';

/** The health routes; the Redis indicator reuses the global `RedisModule` connections, the database one the pool. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, DatabaseHealthIndicator],
})
export class HealthModule {}
