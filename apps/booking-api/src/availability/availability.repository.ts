import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { VenueAvailabilityDto } from './dto/venue-availability.dto.js';

interface SlotRow {
  id: string;
  starts_at: Date;
  ends_at: Date;
  capacity: number;
  booked_seats: number;
  held_seats: number;
}

/** Reads a venue's slots for one UTC day. */
@Injectable()
export class AvailabilityRepository {
  constructor(private readonly db: Database) {}

  /** @returns `null` when the venue does not exist */
  async forVenueOn(venueId: string, date: string): Promise<VenueAvailabilityDto | null> {
    const [venue] = await this.db.query<{ name: string }>(`SELECT name FROM venues WHERE id = $1`, [venueId]);
    if (!venue) return null;
    const rows = await this.db.query<SlotRow>(
      `SELECT id, starts_at, ends_at, capacity, booked_seats, held_seats
         FROM slots
        WHERE venue_id = $1
          AND starts_at >= ($2::date)::timestamp AT TIME ZONE 'UTC'
          AND starts_at < (($2::date) + 1)::timestamp AT TIME ZONE 'UTC'
        ORDER BY starts_at, id`,
      [venueId, date],
    );
    return {
      venueId,
      venueName: venue.name,
      date,
      slots: rows.map((row) => ({
        slotId: row.id,
        startsAt: new Date(row.starts_at).toISOString(),
        endsAt: new Date(row.ends_at).toISOString(),
        capacity: Number(row.capacity),
        bookedSeats: Number(row.booked_seats),
        availableSeats: Number(row.capacity) - Number(row.booked_seats) - Number(row.held_seats),
      })),
    };
  }
}
