import type { BookingCancelledEvent, BookingCreatedEvent } from '../../../booking-contracts/src/index.js';
import type { Booking } from './booking.interface.js';

/** The `booking.created` payload of a booking just written. */
export function bookingCreatedEvent(booking: Booking): BookingCreatedEvent {
  return {
    bookingId: booking.id,
    venueId: booking.venueId,
    slotId: booking.slotId,
    customerEmail: booking.customerEmail,
    seats: booking.seats,
    fencingToken: booking.fencingToken,
    createdAt: booking.createdAt.toISOString(),
  };
}

/** The `booking.cancelled` payload of a booking just cancelled. */
export function bookingCancelledEvent(booking: Booking): BookingCancelledEvent {
  return {
    bookingId: booking.id,
    venueId: booking.venueId,
    slotId: booking.slotId,
    seats: booking.seats,
    cancelledAt: (booking.cancelledAt ?? new Date()).toISOString(),
  };
}
