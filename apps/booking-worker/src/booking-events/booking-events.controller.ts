import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  type BookingCancelledEvent,
  type BookingCreatedEvent,
} from '../../../booking-contracts/src/index.js';
import { BookingEventsService } from './booking-events.service.js';

/**
 * Handles booking events read from Redis Streams by `RedisTransportServer` (consumer group `booking-worker`). A
 * handler that throws leaves the entry pending: the transport retries it, then dead-letters it after
 * `maxAttempts`; `BookingEventsService` makes every retry and redelivery harmless.
 */
@Controller()
export class BookingEventsController {
  constructor(private readonly events: BookingEventsService) {}

  @EventPattern(BOOKING_CREATED)
  async onCreated(@Payload() event: BookingCreatedEvent): Promise<void> {
    await this.events.recordCreated(event);
  }

  @EventPattern(BOOKING_CANCELLED)
  async onCancelled(@Payload() event: BookingCancelledEvent): Promise<void> {
    await this.events.recordCancelled(event);
  }
}
