import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LockHealthIndicator, RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import { BookingsModule } from '../bookings/bookings.module.js';
import { DatabaseHealthIndicator } from '../database/database.health.js';
import { HealthController } from './health.controller.js';

/**
 * The health routes; the Redis and lock indicators reuse the global `RedisModule` connections, the database one the
 * pool, the transport one the booking-events client `BookingsModule` exports.
 */
@Module({
  imports: [TerminusModule, BookingsModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, LockHealthIndicator, DatabaseHealthIndicator, RedisTransportHealthIndicator],
})
export class HealthModule {}
