import type { Queryable } from '../database/database.js';
import { SlotNotFoundError } from './errors/slot-not-found.error.js';
import { StaleFencingTokenError } from './errors/stale-fencing-token.error.js';

/** A slot's seats as the fenced write sees them (its row locked until the transaction ends). */
export interface FencedSlot {
  venueId: string;
  capacity: number;
  bookedSeats: number;
  heldSeats: number;
}

/**
 * Records `fencingToken` as the slot's latest, only if it is newer than the one stored: a holder whose lock expired
 * while a newer holder wrote gets `StaleFencingTokenError`, and its transaction rolls back. The row lock this UPDATE
 * takes also serialises writers that bypass the Redis lock (the worker's hold release). Every write to a slot
 * (bookings, cancellations, holds) calls it first, in its transaction.
 *
 * @throws SlotNotFoundError, StaleFencingTokenError
 */
export async function fenceSlot(tx: Queryable, slotId: string, fencingToken: number): Promise<FencedSlot> {
  const [row] = await tx.query<{ venue_id: string; capacity: number; booked_seats: number; held_seats: number }>(
    `UPDATE slots SET last_fencing_token = $1
      WHERE id = $2 AND last_fencing_token < $1
      RETURNING venue_id, capacity, booked_seats, held_seats`,
    [fencingToken, slotId],
  );
  if (row) {
    return {
      venueId: row.venue_id,
      capacity: Number(row.capacity),
      bookedSeats: Number(row.booked_seats),
      heldSeats: Number(row.held_seats),
    };
  }
  const [exists] = await tx.query(`SELECT 1 FROM slots WHERE id = $1`, [slotId]);
  if (!exists) throw new SlotNotFoundError(slotId);
  throw new StaleFencingTokenError(slotId, fencingToken);
}

/** Seats a fenced slot can still give: neither booked nor held. */
export function freeSeats(slot: FencedSlot): number {
  return slot.capacity - slot.bookedSeats - slot.heldSeats;
}
