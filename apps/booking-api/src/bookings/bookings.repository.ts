import { Injectable } from '@nestjs/common';
import { BOOKING_CANCELLED, BOOKING_CREATED } from '../../../booking-contracts/src/index.js';
import { Database, type Queryable } from '../database/database.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { bookingCancelledEvent, bookingCreatedEvent } from './booking-event.payloads.js';
import type { Booking, BookingOutcome } from './booking.interface.js';
import { HoldNotActiveError } from '../holds/errors/hold-not-active.error.js';
import { HoldNotFoundError } from '../holds/errors/hold-not-found.error.js';
import { SlotSoldOutError } from './errors/slot-sold-out.error.js';
import { fenceSlot, freeSeats } from './slot-fence.js';

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

/** What a booking write did; `eventId` is the outbox entry of its event, when it wrote one. */
export type BookingWrite = BookingOutcome & { requestFingerprint: string; eventId?: string };

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

/** What `confirmHold` stores: the booking takes the hold's slot, customer and seats. */
export interface HoldConfirmation {
  id: string;
  holdId: string;
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
 * Bookings and slot seats in SQL. Every write to a slot goes through {@link fenceSlot} first, in the same transaction:
 * it records the caller's lock fencing token on the slot, and fails when the slot already saw a newer one. A write
 * that creates or cancels a booking appends its event to the outbox in that transaction too, so the event exists
 * exactly when the booking change does (the relay publishes it after the commit).
 */
@Injectable()
export class BookingsRepository {
  constructor(
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
  ) {}

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
    const [row] = await this.db.query<{
      venue_id: string;
      capacity: number;
      booked_seats: number;
      held_seats: number;
    }>(`SELECT venue_id, capacity, booked_seats, held_seats FROM slots WHERE id = $1`, [slotId]);
    if (!row) return null;
    return {
      venueId: row.venue_id,
      capacity: Number(row.capacity),
      availableSeats: Number(row.capacity) - Number(row.booked_seats) - Number(row.held_seats),
    };
  }

  /**
   * Books seats under the slot lock whose fencing token is `fencingToken`: one transaction that fences the slot,
   * returns the booking an earlier request with the same idempotency key made (no second seat), or checks capacity,
   * takes the seats, inserts the booking and its `booking.created` outbox entry.
   *
   * @throws SlotNotFoundError, StaleFencingTokenError, SlotSoldOutError (nothing written in each case)
   */
  async create(booking: NewBooking, fencingToken: number): Promise<BookingWrite> {
    return this.db.transaction(async (tx) => {
      const slot = await fenceSlot(tx, booking.slotId, fencingToken);
      const prior = await this.findByIdempotencyKey(booking.idempotencyKey, tx);
      if (prior) return { ...prior, replayed: true };
      const available = freeSeats(slot);
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
      const stored = toStored(row!);
      const eventId = await this.outbox.append(tx, BOOKING_CREATED, bookingCreatedEvent(stored.booking));
      return { ...stored, replayed: false, eventId };
    });
  }

  /**
   * Cancels a confirmed booking under the slot lock whose fencing token is `fencingToken`, gives its seats back and
   * appends its `booking.cancelled` outbox entry.
   *
   * @returns the booking, whether this call cancelled it (`false` when it already was), and its outbox entry's id
   * @throws StaleFencingTokenError (nothing written)
   */
  async cancel(
    booking: Booking,
    fencingToken: number,
  ): Promise<{ booking: Booking; cancelled: boolean; eventId?: string }> {
    return this.db.transaction(async (tx) => {
      await fenceSlot(tx, booking.slotId, fencingToken);
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
      const cancelled = toStored(row).booking;
      const eventId = await this.outbox.append(tx, BOOKING_CANCELLED, bookingCancelledEvent(cancelled));
      return { booking: cancelled, cancelled: true, eventId };
    });
  }

  /**
   * Turns a live hold into a booking under the slot lock whose fencing token is `fencingToken`, in one
   * transaction: fences the slot, returns the booking an earlier request with the same idempotency key made, or
   * locks the hold's row, checks it is still held and unexpired (database clock), inserts the booking and its
   * `booking.created` outbox entry, and moves its seats from held to booked. The slot row is locked before the hold row, as the worker's release does.
   *
   * @throws HoldNotFoundError, HoldNotActiveError, StaleFencingTokenError (nothing written in each case)
   */
  async confirmHold(slotId: string, confirmation: HoldConfirmation, fencingToken: number): Promise<BookingWrite> {
    return this.db.transaction(async (tx) => {
      await fenceSlot(tx, slotId, fencingToken);
      const prior = await this.findByIdempotencyKey(confirmation.idempotencyKey, tx);
      if (prior) return { ...prior, replayed: true };
      const [hold] = await tx.query<{
        slot_id: string;
        venue_id: string;
        customer_email: string;
        seats: number;
        status: string;
        expired: boolean;
      }>(
        `SELECT slot_id, venue_id, customer_email, seats, status, expires_at <= now() AS expired
           FROM holds WHERE id = $1 FOR UPDATE`,
        [confirmation.holdId],
      );
      if (!hold || hold.slot_id !== slotId) throw new HoldNotFoundError(confirmation.holdId);
      if (hold.status !== 'held') throw new HoldNotActiveError(confirmation.holdId, hold.status as 'confirmed');
      if (hold.expired) throw new HoldNotActiveError(confirmation.holdId, 'expired');
      const [row] = await tx.query<BookingRow>(
        `INSERT INTO bookings (id, slot_id, venue_id, customer_email, seats, status, idempotency_key,
                               request_fingerprint, fencing_token, hold_id)
         VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7, $8, $9)
         RETURNING ${BOOKING_COLUMNS}`,
        [
          confirmation.id,
          slotId,
          hold.venue_id,
          hold.customer_email,
          hold.seats,
          confirmation.idempotencyKey,
          confirmation.requestFingerprint,
          fencingToken,
          confirmation.holdId,
        ],
      );
      await tx.query(`UPDATE holds SET status = 'confirmed', ended_at = now(), booking_id = $2 WHERE id = $1`, [
        confirmation.holdId,
        confirmation.id,
      ]);
      await tx.query(`UPDATE slots SET held_seats = held_seats - $1, booked_seats = booked_seats + $1 WHERE id = $2`, [
        hold.seats,
        slotId,
      ]);
      const stored = toStored(row!);
      const eventId = await this.outbox.append(tx, BOOKING_CREATED, bookingCreatedEvent(stored.booking));
      return { ...stored, replayed: false, eventId };
    });
  }
}
