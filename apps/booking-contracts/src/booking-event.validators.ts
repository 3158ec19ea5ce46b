import {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  type BookingCancelledEvent,
  type BookingCreatedEvent,
  type BookingEventName,
} from './booking-events.js';
import { canonicalUuid } from './canonical-uuid.js';

/** Most seats one event may carry: far above any booking, far below what would overflow a Redis counter. */
const MAX_EVENT_SEATS = 10_000;
/** RFC 5321's limit on an address; the API accepts no longer one. */
const MAX_EMAIL_LENGTH = 254;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * A booking event whose payload does not match its contract. The message names the event and each field that is
 * wrong with the shape it should have, never the values (an e-mail address is personal data, and a hostile entry's
 * values belong in the dead-letter stream's bounded excerpt, not in logs).
 */
export class InvalidBookingEventError extends Error {
  override readonly name = 'InvalidBookingEventError';

  constructor(
    readonly event: BookingEventName,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${event} payload: ${problems.join('; ')}.`);
  }
}

/** Collects a payload's problems field by field, so one error lists them all. */
class PayloadReader {
  readonly problems: string[] = [];
  private readonly record: Record<string, unknown>;

  constructor(payload: unknown) {
    const isRecord = typeof payload === 'object' && payload !== null && !Array.isArray(payload);
    if (!isRecord) this.problems.push('the payload must be a JSON object');
    this.record = isRecord ? (payload as Record<string, unknown>) : {};
  }

  uuid(field: string): string {
    const value = canonicalUuid(this.record[field]);
    if (value === undefined) this.problems.push(`${field} must be a UUID`);
    return value ?? '';
  }

  integer(field: string, min: number, max: number): number {
    const value = this.record[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${field} must be an integer from ${min} to ${max}`);
      return 0;
    }
    return value;
  }

  email(field: string): string {
    const value = this.record[field];
    if (typeof value !== 'string' || value.length > MAX_EMAIL_LENGTH || !EMAIL.test(value)) {
      this.problems.push(`${field} must be an e-mail address of at most ${MAX_EMAIL_LENGTH} characters`);
      return '';
    }
    return value;
  }

  timestamp(field: string): string {
    const value = this.record[field];
    if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
      this.problems.push(`${field} must be an ISO 8601 timestamp`);
      return '';
    }
    return value;
  }

  /** @throws InvalidBookingEventError listing every problem found */
  result<Event>(event: BookingEventName, value: Event): Event {
    if (this.problems.length > 0) throw new InvalidBookingEventError(event, this.problems);
    return value;
  }
}

/**
 * Checks a `booking.created` payload against {@link BookingCreatedEvent} and returns it with its ids in canonical
 * (lower-case) form and only the contract's fields: what a handler may trust.
 *
 * @param payload the decoded data of a stream entry (anything: anyone who can `XADD` can write one)
 * @throws InvalidBookingEventError naming every field that does not match
 */
export function parseBookingCreated(payload: unknown): BookingCreatedEvent {
  const read = new PayloadReader(payload);
  return read.result(BOOKING_CREATED, {
    bookingId: read.uuid('bookingId'),
    venueId: read.uuid('venueId'),
    slotId: read.uuid('slotId'),
    customerEmail: read.email('customerEmail'),
    seats: read.integer('seats', 1, MAX_EVENT_SEATS),
    fencingToken: read.integer('fencingToken', 0, Number.MAX_SAFE_INTEGER),
    createdAt: read.timestamp('createdAt'),
  });
}

/**
 * Checks a `booking.cancelled` payload against {@link BookingCancelledEvent}; ids come back lower-case.
 *
 * @param payload the decoded data of a stream entry
 * @throws InvalidBookingEventError naming every field that does not match
 */
export function parseBookingCancelled(payload: unknown): BookingCancelledEvent {
  const read = new PayloadReader(payload);
  return read.result(BOOKING_CANCELLED, {
    bookingId: read.uuid('bookingId'),
    venueId: read.uuid('venueId'),
    slotId: read.uuid('slotId'),
    seats: read.integer('seats', 1, MAX_EVENT_SEATS),
    cancelledAt: read.timestamp('cancelledAt'),
  });
}
