import { Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { REDIS_RESOLVED_OPTIONS, type ResolvedRedisOptions } from '@app/redis';
import { RedisTransportClient } from '@app/redis/transport';
import { AvailabilityModule } from '../availability/availability.module.js';
import { ApiConfigModule } from '../config/api-config.module.js';
import {
  BOOKING_EVENTS_CLIENT,
  BookingEventsPublisher,
  StreamsBookingEventsPublisher,
} from './booking-events.publisher.js';
import { BookingsController } from './bookings.controller.js';
import { BookingsRepository } from './bookings.repository.js';
import { BookingsService } from './bookings.service.js';

/** The `RedisTransportClient` (streams mode) under `BOOKING_EVENTS_CLIENT`; exported for the health check. */
const bookingEventsClients = ClientsModule.registerAsync([
  {
    name: BOOKING_EVENTS_CLIENT,
    inject: [REDIS_RESOLVED_OPTIONS],
    useFactory: (moduleOptions: ResolvedRedisOptions) => ({
      customClass: RedisTransportClient,
      options: { moduleOptions, mode: 'streams' },
    }),
  },
]);

/**
 * Booking writes under the slot lock; uses the availability feature's cache eviction, and emits booking events
 * into Redis Streams on the `RedisModule` connection settings and key prefix (so booking-worker, configured with the
 * same `REDIS_KEY_PREFIX`, reads the same streams).
 */
@Module({
  imports: [ApiConfigModule, AvailabilityModule, bookingEventsClients],
  controllers: [BookingsController],
  providers: [
    BookingsRepository,
    BookingsService,
    { provide: BookingEventsPublisher, useClass: StreamsBookingEventsPublisher },
  ],
  exports: [bookingEventsClients],
})
export class BookingsModule {}
