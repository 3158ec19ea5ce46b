/**
 * The events booking-api emits and booking-worker handles: names and payloads are defined here once, and both apps
 * import them (the library stays free of demo code). Payloads are plain JSON: timestamps are ISO 8601 strings.
 */

/** Emitted once per booking, after the booking's transaction committed. */
export const BOOKING_CREATED = 'booking.created';
/** Emitted once per cancellation, after the cancellation's transaction committed. */
export const BOOKING_CANCELLED = 'booking.cancelled';

/** Payload of {@link BOOKING_CREATED}. */
export interface BookingCreatedEvent {
  bookingId: string;
  venueId: string;
  slotId: string;
  customerEmail: string;
  seats: number;
  /** The slot lock's fencing token the booking was written under. */
  fencingToken: number;
  /** When the booking was committed (ISO 8601). */
  createdAt: string;
}

/** Payload of {@link BOOKING_CANCELLED}. */
export interface BookingCancelledEvent {
  bookingId: string;
  venueId: string;
  slotId: string;
  /** Seats given back to the slot. */
  seats: number;
  /** When the cancellation was committed (ISO 8601). */
  cancelledAt: string;
}

/** Event name → payload, for typed publishers and handlers. */
export interface BookingEventMap {
  [BOOKING_CREATED]: BookingCreatedEvent;
  [BOOKING_CANCELLED]: BookingCancelledEvent;
}

/** One of the booking event names. */
export type BookingEventName = keyof BookingEventMap;
