import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from '../database/database.js';
import type { Booking, BookingOutcome } from './booking.interface.js';
import { SlotNotFoundError } from './errors/slot-not-found.error.js';
import { SlotSoldOutError } from './errors/slot-sold-out.error.js';
import { StaleFencingTokenError } from './errors/stale-fencing-token.error.js';

interface BookingRow {
  id: string;
  slot_id: string;
  venue_id: string;
  customer_email: string;
  seats: number;
  status: 'confirmed' | 'cancelled';
  fencing_token: string | number;
  created_at: Date | string;
  cancelled_at: Date | string | null;
  request_fingerprint: string;
}

/** A stored booking and the fingerprint of the request that made it. */
export interface StoredBooking {
  booking: Booking;
  requestFingerprint: string;
}

/** A slot's seats, read without locking (a hint: the locked write checks again). */
export interface SlotSeats {
  venueId: string;
  capacity: number;
  availableSeats: number;
}

/** What `create` stores. */
export interface NewBooking {
  id: string;
  slotId: string;
  customerEmail: string;
  seats: number;
  idempotencyKey: string;
  requestFingerprint: string;
}

const BOOKING_COLUMNS = `id, slot_id, venue_id, customer_email, seats, status, fencing_token, created_at, cancelled_at,
  request_fingerprint`;

function toStored(row: BookingRow): StoredBooking {
  return {
    booking: {
      id: row.id,
      slotId: row.slot_id,
      venueId: row.venue_id,
      customerEmail: row.customer_email,
      seats: Number(row.seats),
      status: row.status,
      fencingToken: Number(row.fencing_token),
      createdAt: new Date(row.created_at),
      cancelledAt: row.cancelled_at === null ? null : new Date(row.cancelled_at),
    },
    requestFingerprint: row.request_fingerprint,
  };
}

/**
 * Bookings and slot seats in SQL. Every write to a slot goes through {@link fence} first, in the same transaction:
 * it records the caller's lock fencing token on the slot, and fails when the slot already saw a newer one.
 */
@Injectable()
export class BookingsRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Booking | null> {
    const [row] = await this.db.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1`, [id]);
    return row ? toStored(row).booking : null;
  }

  async findByIdempotencyKey(key: string, tx: Queryable = this.db): Promise<StoredBooking | null> {
    const [row] = await tx.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE idempotency_key = $1`, [
      key,
    ]);
    return row ? toStored(row) : null;
  }

  async findSlotSeats(slotId: string): Promise<SlotSeats | null> {
    const [row] = await this.db.query<{ venue_id: string; capacity: number; booked_seats: number }>(
      `SELECT venue_id, capacity, booked_seats FROM slots WHERE id = $1`,
      [slotId],
    );
    if (!row) return null;
    return {
      venueId: row.venue_id,
      capacity: Number(row.capacity),
      availableSeats: Number(row.capacity) - Number(row.booked_seats),
    };
  }

  /**
   * Books seats under the slot lock whose fencing token is `fencingToken`: one transaction that fences the slot,
   * returns the booking an earlier request with the same idempotency key made (no second seat), or checks capacity,
   * takes the seats and inserts the booking.
   *
   * @throws SlotNotFoundError, StaleFencingTokenError, SlotSoldOutError (nothing written in each case)
   */
  async create(booking: NewBooking, fencingToken: number): Promise<BookingOutcome & { requestFingerprint: string }> {
    return this.db.transaction(async (tx) => {
      const slot = await this.fence(tx, booking.slotId, fencingToken);
      const prior = await this.findByIdempotencyKey(booking.idempotencyKey, tx);
      if (prior) return { ...prior, replayed: true };
      const available = slot.capacity - slot.bookedSeats;
      if (booking.seats > available) throw new SlotSoldOutError(booking.slotId, available, booking.seats);
      await tx.query(`UPDATE slots SET booked_seats = booked_seats + $1 WHERE id = $2`, [
        booking.seats,
        booking.slotId,
      ]);
      const [row] = await tx.query<BookingRow>(
        `INSERT INTO bookings (id, slot_id, venue_id, customer_email, seats, status, idempotency_key,
                               request_fingerprint, fencing_token)
         VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7, $8)
         RETURNING ${BOOKING_COLUMNS}`,
        [
          booking.id,
          booking.slotId,
          slot.venueId,
          booking.customerEmail,
          booking.seats,
          booking.idempotencyKey,
          booking.requestFingerprint,
          fencingToken,
        ],
      );
      return { ...toStored(row!), replayed: false };
    });
  }

  /**
   * Cancels a confirmed booking under the slot lock whose fencing token is `fencingToken` and gives its seats back.
   *
   * @returns the booking, and whether this call cancelled it (`false` when it already was)
   * @throws StaleFencingTokenError (nothing written)
   */
  async cancel(booking: Booking, fencingToken: number): Promise<{ booking: Booking; cancelled: boolean }> {
    return this.db.transaction(async (tx) => {
      await this.fence(tx, booking.slotId, fencingToken);
      const [row] = await tx.query<BookingRow>(
        `UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancel_fencing_token = $2
          WHERE id = $1 AND status = 'confirmed'
          RETURNING ${BOOKING_COLUMNS}`,
        [booking.id, fencingToken],
      );
      if (!row) {
        const [current] = await tx.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1`, [
          booking.id,
        ]);
        return { booking: toStored(current!).booking, cancelled: false };
      }
      await tx.query(`UPDATE slots SET booked_seats = booked_seats - $1 WHERE id = $2`, [row.seats, row.slot_id]);
      return { booking: toStored(row).booking, cancelled: true };
    });
  }

  /**
   * Records `fencingToken` as the slot's latest, only if it is newer than the one stored: a holder whose lock
   * expired while a newer holder wrote gets `StaleFencingTokenError`, and its transaction rolls back. The row lock
   * this UPDATE takes also serialises writers that bypass the Redis lock.
   */
  private async fence(tx: Queryable, slotId: string, fencingToken: number) {
    const [row] = await tx.query<{ venue_id: string; capacity: number; booked_seats: number }>(
      `UPDATE slots SET last_fencing_token = $1
        WHERE id = $2 AND last_fencing_token < $1
        RETURNING venue_id, capacity, booked_seats`,
      [fencingToken, slotId],
    );
    if (row) return { venueId: row.venue_id, capacity: Number(row.capacity), bookedSeats: Number(row.booked_seats) };
    const [exists] = await tx.query(`SELECT 1 FROM slots WHERE id = $1`, [slotId]);
    if (!exists) throw new SlotNotFoundError(slotId);
    throw new StaleFencingTokenError(slotId, fencingToken);
  }
}
