import type { BookingEventMap, BookingEventName } from '../../../booking-contracts/src/index.js';
import { BookingEventsPublisher } from '../../src/bookings/booking-events.publisher.js';

/** A publisher that keeps what it was given, to assert on the events a request emitted. */
export class RecordingEventsPublisher extends BookingEventsPublisher {
  readonly events: Array<{ name: BookingEventName; payload: BookingEventMap[BookingEventName] }> = [];

  async publish<Name extends BookingEventName>(name: Name, payload: BookingEventMap[Name]): Promise<void> {
    this.events.push({ name, payload });
  }
}
