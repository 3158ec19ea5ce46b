/** A booking as stored. */
export interface Booking {
  id: string;
  slotId: string;
  venueId: string;
  customerEmail: string;
  seats: number;
  status: 'confirmed' | 'cancelled';
  /** Fencing token of the slot lock the booking was written under. */
  fencingToken: number;
  createdAt: Date;
  cancelledAt: Date | null;
}

/** What a create call did: a new booking, or the one an earlier request with the same idempotency key made. */
export interface BookingOutcome {
  booking: Booking;
  replayed: boolean;
}
