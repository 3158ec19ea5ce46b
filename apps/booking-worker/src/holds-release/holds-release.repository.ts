import type { Database } from '../../../booking-api/src/database/database.js';

/** One hold the job released. */
export interface ReleasedHold {
  holdId: string;
  slotId: string;
  venueId: string;
  seats: number;
}

/** A slot whose seat counters did not match its rows, and was corrected. */
export interface CorrectedSlot {
  slotId: string;
  venueId: string;
}

/** How far back reconciliation looks: slots that ended within this window, and every future slot. */
const RECONCILE_WINDOW = `interval '1 day'`;

/**
 * The SQL of the hold-release job, on booking-api's database. Both statements lock the slot rows first (in id
 * order), then the holds: the order booking-api's writes use (fence the slot, then the hold), so they never
 * deadlock, and a hold is either confirmed or released, never both.
 */
export class HoldsReleaseRepository {
  constructor(private readonly db: Database) {}

  /**
   * Releases every hold past its expiry (database clock), in one transaction: marks it `released`, gives its seats
   * back to the slot, and appends a row to `hold_releases` naming the worker and the tick.
   *
   * @returns the released holds, and the database time the pass covered (every hold expiring by then has ended)
   */
  async releaseExpired(workerId: string, tick: number): Promise<{ released: ReleasedHold[]; asOf: number }> {
    return this.db.transaction(async (tx) => {
      const slots = await tx.query<{ id: string; as_of: Date | string }>(
        `SELECT id, now() AS as_of FROM slots
          WHERE id IN (SELECT slot_id FROM holds WHERE status = 'held' AND expires_at <= now())
          ORDER BY id FOR UPDATE`,
      );
      if (slots.length === 0) {
        const [clock] = await tx.query<{ as_of: Date | string }>(`SELECT now() AS as_of`);
        return { released: [], asOf: new Date(clock!.as_of).getTime() };
      }
      const asOf = new Date(slots[0]!.as_of).getTime();
      const rows = await tx.query<{ id: string; slot_id: string; venue_id: string; seats: number }>(
        `UPDATE holds SET status = 'released', ended_at = now()
          WHERE status = 'held' AND expires_at <= now() AND slot_id = ANY($1::uuid[])
          RETURNING id, slot_id, venue_id, seats`,
        [slots.map((slot) => slot.id)],
      );
      const released = rows.map((row) => ({
        holdId: row.id,
        slotId: row.slot_id,
        venueId: row.venue_id,
        seats: Number(row.seats),
      }));
      const seatsPerSlot = new Map<string, number>();
      for (const hold of released) seatsPerSlot.set(hold.slotId, (seatsPerSlot.get(hold.slotId) ?? 0) + hold.seats);
      for (const [slotId, seats] of seatsPerSlot) {
        await tx.query(`UPDATE slots SET held_seats = held_seats - $1 WHERE id = $2`, [seats, slotId]);
      }
      if (released.length > 0) {
        await tx.query(`INSERT INTO hold_releases (hold_id, worker_id, tick) SELECT unnest($1::uuid[]), $2, $3`, [
          released.map((hold) => hold.holdId),
          workerId,
          tick,
        ]);
      }
      return { released, asOf };
    });
  }

  /**
   * Sets each recent slot's `held_seats` and `booked_seats` to what its live holds and confirmed bookings add up
   * to, and returns the slots that were off. The slot rows are locked first, so the sums (a new statement, a new
   * snapshot) include every write that held them and none is in flight.
   */
  async reconcile(): Promise<CorrectedSlot[]> {
    return this.db.transaction(async (tx) => {
      const slots = await tx.query<{ id: string }>(
        `SELECT id FROM slots WHERE ends_at > now() - ${RECONCILE_WINDOW} ORDER BY id FOR UPDATE`,
      );
      if (slots.length === 0) return [];
      const rows = await tx.query<{ id: string; venue_id: string }>(
        `UPDATE slots s SET held_seats = c.held, booked_seats = c.booked
           FROM (SELECT id,
                        (SELECT coalesce(sum(seats), 0) FROM holds h
                          WHERE h.slot_id = slots.id AND h.status = 'held') AS held,
                        (SELECT coalesce(sum(seats), 0) FROM bookings b
                          WHERE b.slot_id = slots.id AND b.status = 'confirmed') AS booked
                   FROM slots WHERE id = ANY($1::uuid[])) c
          WHERE s.id = c.id AND (s.held_seats <> c.held OR s.booked_seats <> c.booked)
          RETURNING s.id, s.venue_id`,
        [slots.map((slot) => slot.id)],
      );
      return rows.map((row) => ({ slotId: row.id, venueId: row.venue_id }));
    });
  }
}
