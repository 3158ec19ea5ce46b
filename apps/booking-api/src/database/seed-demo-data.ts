import { createHash } from 'node:crypto';
import type { Database } from './database.js';

/** The venue the demo scenario books: its 09:00 slot has exactly 10 seats. */
export const DEMO_VENUE_ID = '0b7d5c1e-5f0a-4c57-9d6e-0d2f3f6a0001';
/** A second venue, so per-venue counters and cache tags have something to tell apart. */
export const SECOND_VENUE_ID = '0b7d5c1e-5f0a-4c57-9d6e-0d2f3f6a0002';

interface SeedSlot {
  venueId: string;
  hour: number;
  hours: number;
  capacity: number;
}

const VENUES = [
  { id: DEMO_VENUE_ID, name: 'Riverside Hall', city: 'Lisbon' },
  { id: SECOND_VENUE_ID, name: 'Harbour Studio', city: 'Porto' },
];

const SLOTS: SeedSlot[] = [
  { venueId: DEMO_VENUE_ID, hour: 9, hours: 2, capacity: 10 },
  { venueId: DEMO_VENUE_ID, hour: 12, hours: 2, capacity: 50 },
  { venueId: DEMO_VENUE_ID, hour: 18, hours: 3, capacity: 200 },
  { venueId: SECOND_VENUE_ID, hour: 10, hours: 1, capacity: 4 },
  { venueId: SECOND_VENUE_ID, hour: 15, hours: 1, capacity: 4 },
];

/** A stable UUID for a seeded slot, so seeding twice (or from two replicas) inserts nothing new. */
export function seedSlotId(venueId: string, date: string, hour: number): string {
  const hex = createHash('sha256').update(`${venueId}:${date}:${hour}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Inserts the demo venues and their slots on each of `dates` (UTC, `YYYY-MM-DD`). Idempotent: ids are fixed, and
 * rows that exist are left alone (bookings made on them survive).
 *
 * @param db a migrated database
 * @param dates the days to create slots on
 * @default dates today (UTC)
 */
export async function seedDemoData(
  db: Database,
  dates: string[] = [new Date().toISOString().slice(0, 10)],
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const venue of VENUES) {
      await tx.query(`INSERT INTO venues (id, name, city) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
        venue.id,
        venue.name,
        venue.city,
      ]);
    }
    for (const date of dates) {
      for (const slot of SLOTS) {
        const startsAt = new Date(`${date}T${String(slot.hour).padStart(2, '0')}:00:00.000Z`);
        const endsAt = new Date(startsAt.getTime() + slot.hours * 3_600_000);
        await tx.query(
          `INSERT INTO slots (id, venue_id, starts_at, ends_at, capacity)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
          [seedSlotId(slot.venueId, date, slot.hour), slot.venueId, startsAt, endsAt, slot.capacity],
        );
      }
    }
  });
}
