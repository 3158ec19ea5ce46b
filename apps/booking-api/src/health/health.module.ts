import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { RedisHealthIndicator } from './redis.health.js';

/** The `/health` endpoint and its indicators; relies on the global `RedisModule` for the connection. */
@Module({
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
