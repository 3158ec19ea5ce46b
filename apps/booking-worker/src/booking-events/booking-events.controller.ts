import { Controller } from '@nestjs/common';
import { EventPattern, Payload, RpcException } from '@nestjs/microservices';
import {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  InvalidBookingEventError,
  parseBookingCancelled,
  parseBookingCreated,
} from '../../../booking-contracts/src/index.js';
import { BookingEventsService } from './booking-events.service.js';

/**
 * Handles booking events read from Redis Streams by `RedisTransportServer` (consumer group `booking-worker`). The
 * pattern comes from the stream's name and the data from whoever could `XADD` to it, so each payload is checked
 * against its contract before anything is written: a payload that does not match fails the handler with the
 * `InvalidBookingEventError` message (naming the fields, not their values) as an `RpcException`, so Nest's
 * exception filter keeps the message (any other error becomes "Internal server error"); the transport retries it
 * like any failure and dead-letters it after `maxAttempts` with that message as the reason. A handler that throws leaves the entry
 * pending meanwhile; `BookingEventsService` makes every retry and redelivery harmless.
 */
@Controller()
export class BookingEventsController {
  constructor(private readonly events: BookingEventsService) {}

  @EventPattern(BOOKING_CREATED)
  async onCreated(@Payload() payload: unknown): Promise<void> {
    await this.events.recordCreated(checked(() => parseBookingCreated(payload)));
  }

  @EventPattern(BOOKING_CANCELLED)
  async onCancelled(@Payload() payload: unknown): Promise<void> {
    await this.events.recordCancelled(checked(() => parseBookingCancelled(payload)));
  }
}

/** Runs a contract check; a payload that fails it becomes an `RpcException` carrying the check's message. */
function checked<Event>(parse: () => Event): Event {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidBookingEventError) throw new RpcException(error.message);
    throw error;
  }
}
