import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import type { BookingEventMap, BookingEventName } from '../../../booking-contracts/src/index.js';

/** Injection token of the `RedisTransportClient` (streams mode) that carries booking events to booking-worker. */
export const BOOKING_EVENTS_CLIENT = 'booking-api:booking-events-client';

/** Longest a publish may wait for Redis to confirm the stream entry; the booking itself is already committed. */
const PUBLISH_TIMEOUT_MS = 2_000;

/**
 * Where the `OutboxRelay` sends `booking.created` and `booking.cancelled` from the outbox, after the transaction
 * committed. Tests
 * replace it (`overrideProvider(BookingEventsPublisher)`) to assert on the events a request emitted.
 */
export abstract class BookingEventsPublisher {
  abstract publish<Name extends BookingEventName>(name: Name, payload: BookingEventMap[Name]): Promise<void>;
}

/**
 * Appends each event to its Redis Stream through the library's `RedisTransportClient` in streams mode; resolves
 * once Redis confirmed the entry, so booking-worker's consumer group will get it even if it is down right now.
 */
@Injectable()
export class StreamsBookingEventsPublisher extends BookingEventsPublisher {
  constructor(@Inject(BOOKING_EVENTS_CLIENT) private readonly client: ClientProxy) {
    super();
  }

  async publish<Name extends BookingEventName>(name: Name, payload: BookingEventMap[Name]): Promise<void> {
    await lastValueFrom(this.client.emit(name, payload).pipe(timeout(PUBLISH_TIMEOUT_MS)), { defaultValue: undefined });
  }
}
