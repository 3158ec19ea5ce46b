import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { SlotSoldOutError } from '../bookings/errors/slot-sold-out.error.js';
import { fenceSlot, freeSeats } from '../bookings/slot-fence.js';
import type { Hold, HoldStatus } from './hold.interface.js';
import { HoldNotActiveError } from './errors/hold-not-active.error.js';

interface HoldRow {
  id: string;
  slot_id: string;
  venue_id: string;
  customer_email: string;
  seats: number;
  status: HoldStatus;
  expires_at: Date | string;
  created_at: Date | string;
  ended_at: Date | string | null;
  booking_id: string | null;
}

const HOLD_COLUMNS = `id, slot_id, venue_id, customer_email, seats, status, expires_at, created_at, ended_at, booking_id`;

function toHold(row: HoldRow): Hold {
  return {
    id: row.id,
    slotId: row.slot_id,
    venueId: row.venue_id,
    customerEmail: row.customer_email,
    seats: Number(row.seats),
    status: row.status,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    bookingId: row.booking_id,
  };
}

/** What `place` stores. */
export interface NewHold {
  id: string;
  slotId: string;
  customerEmail: string;
  seats: number;
}

/**
 * Seat holds in SQL. A live hold's seats are counted in `slots.held_seats`, so bookings and other holds see them
 * taken; every write fences the slot first (the slot lock's token), as bookings do. Expired holds are released by
 * booking-worker's scheduled job, which locks the slot rows in the same order.
 */
@Injectable()
export class HoldsRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Hold | null> {
    const [row] = await this.db.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [id]);
    return row ? toHold(row) : null;
  }

  /**
   * Holds `seats` on a slot for `ttlMs` (expiry on the database clock) under the slot lock whose fencing token is
   * `fencingToken`.
   *
   * @throws SlotNotFoundError, StaleFencingTokenError, SlotSoldOutError (nothing written in each case)
   */
  async place(hold: NewHold, ttlMs: number, fencingToken: number): Promise<Hold> {
    return this.db.transaction(async (tx) => {
      const slot = await fenceSlot(tx, hold.slotId, fencingToken);
      const available = freeSeats(slot);
      if (hold.seats > available) throw new SlotSoldOutError(hold.slotId, available, hold.seats);
      await tx.query(`UPDATE slots SET held_seats = held_seats + $1 WHERE id = $2`, [hold.seats, hold.slotId]);
      const [row] = await tx.query<HoldRow>(
        `INSERT INTO holds (id, slot_id, venue_id, customer_email, seats, status, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'held', now() + $6 * interval '1 millisecond')
         RETURNING ${HOLD_COLUMNS}`,
        [hold.id, hold.slotId, slot.venueId, hold.customerEmail, hold.seats, ttlMs],
      );
      return toHold(row!);
    });
  }

  /**
   * Cancels a held hold (expired or not: the seats go back either way, once) under the slot lock and frees its
   * seats. Cancelling a cancelled hold returns it unchanged.
   *
   * @returns the hold, and whether this call cancelled it
   * @throws HoldNotActiveError (confirmed or already released), StaleFencingTokenError
   */
  async cancel(hold: Hold, fencingToken: number): Promise<{ hold: Hold; cancelled: boolean }> {
    return this.db.transaction(async (tx) => {
      await fenceSlot(tx, hold.slotId, fencingToken);
      const [row] = await tx.query<HoldRow>(
        `UPDATE holds SET status = 'cancelled', ended_at = now()
          WHERE id = $1 AND status = 'held'
          RETURNING ${HOLD_COLUMNS}`,
        [hold.id],
      );
      if (row) {
        await tx.query(`UPDATE slots SET held_seats = held_seats - $1 WHERE id = $2`, [row.seats, row.slot_id]);
        return { hold: toHold(row), cancelled: true };
      }
      const [current] = await tx.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1`, [hold.id]);
      const stored = toHold(current!);
      if (stored.status === 'cancelled') return { hold: stored, cancelled: false };
      throw new HoldNotActiveError(hold.id, stored.status as 'confirmed' | 'released');
    });
  }
}
