/** Where a hold is in its life: `held` until confirmed, cancelled, or released by the worker once expired. */
export type HoldStatus = 'held' | 'confirmed' | 'cancelled' | 'released';

/** A seat hold as stored. */
export interface Hold {
  id: string;
  slotId: string;
  venueId: string;
  customerEmail: string;
  seats: number;
  status: HoldStatus;
  /** When the seats go back to the slot unless the hold is confirmed first (database clock). */
  expiresAt: Date;
  createdAt: Date;
  /** When it was confirmed, cancelled or released; `null` while held. */
  endedAt: Date | null;
  /** The booking that confirmed it. */
  bookingId: string | null;
}
