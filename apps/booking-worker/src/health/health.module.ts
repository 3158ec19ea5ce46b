import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import { BookingEventsModule } from '../booking-events/booking-events.module.js';
import { HealthController } from './health.controller.js';

/**
 * The health routes; the Redis indicator reuses the global `RedisModule` connections, the transport one reads the
 * server `BookingEventsModule` provides.
 */
@Module({
  imports: [TerminusModule, BookingEventsModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, RedisTransportHealthIndicator],
})
export class HealthModule {}
