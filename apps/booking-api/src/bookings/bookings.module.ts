import { Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { REDIS_MODULE_SETTINGS, RedisInstrumentation, type RedisModuleSettings } from '@app/redis';
import { RedisTransportClient } from '@app/redis/transport';
import { AvailabilityModule } from '../availability/availability.module.js';
import { API_CONFIG } from '../config/api-config.constants.js';
import type { ApiConfig } from '../config/api-config.interface.js';
import { ApiConfigModule } from '../config/api-config.module.js';
import { HoldsModule } from '../holds/holds.module.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { PaymentsModule } from '../payments/payments.module.js';
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
    imports: [ApiConfigModule],
    inject: [REDIS_MODULE_SETTINGS, RedisInstrumentation, API_CONFIG],
    // The app's instrumentation: with RedisTracingModule imported, each emit is a span whose context the packet
    // carries to the worker. With BOOKING_EVENTS_REPLICAS, an emit counts only once replicas have it (else the
    // outbox keeps the row and publishes it again).
    useFactory: (moduleOptions: RedisModuleSettings, instrumentation: RedisInstrumentation, config: ApiConfig) => ({
      customClass: RedisTransportClient,
      options: {
        moduleOptions,
        mode: 'streams',
        instrumentation,
        ...(config.bookingEventsReplicas > 0 && {
          streams: { durability: { replicas: config.bookingEventsReplicas } },
        }),
      },
    }),
  },
]);

/**
 * Booking writes under the slot lock (direct, or confirming a hold after the payment step); uses the availability
 * feature's cache eviction, writes booking events to the transactional outbox and relays them from there
 * into Redis Streams on the `RedisModule` connection settings and key prefix (so booking-worker, configured with the
 * same `REDIS_KEY_PREFIX`, reads the same streams).
 */
@Module({
  imports: [ApiConfigModule, AvailabilityModule, HoldsModule, PaymentsModule, bookingEventsClients],
  controllers: [BookingsController],
  providers: [
    BookingsRepository,
    BookingsService,
    OutboxRepository,
    OutboxRelay,
    { provide: BookingEventsPublisher, useClass: StreamsBookingEventsPublisher },
  ],
  exports: [bookingEventsClients],
})
export class BookingsModule {}
