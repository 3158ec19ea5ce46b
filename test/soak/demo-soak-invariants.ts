import type { Redis } from 'ioredis';
import { sql } from '../../src/demo/sql-client.js';

/** The demo's invariants at one moment, read from the database and the workers' records in Redis. */
export interface DemoInvariants {
  /** Slots whose booked + held seats exceed capacity, or whose counters disagree with their rows. */
  oversold: number;
  /** Holds released more than once (`hold_releases` has no unique key, so a second release would show). */
  releasedTwice: number;
  /** Holds that made more than one booking. */
  bookedTwice: number;
  /** Holds still `held` more than `graceMs` after they expired: the release job stalled. */
  stuckHolds: number;
  /**
   * Bookings created (or cancelled) more than `graceMs` ago whose `booking.created` (or `booking.cancelled`) event
   * the workers never recorded; `undefined` when Redis could not be read at that moment.
   */
  unhandledEvents?: number;
  /** What the database holds so far. */
  bookings: number;
  cancelled: number;
  holds: number;
  released: number;
}

/** Where the invariants are read from. */
export interface InvariantSources {
  database: { url: string; schema?: string };
  /** A client on the group's current master (Sentinel-aware), without key prefix. */
  redis: Redis;
  /** The apps' `REDIS_KEY_PREFIX`. */
  keyPrefix: string;
}

/**
 * Reads the invariants. Events younger than `graceMs` are still on their way (emit, stream, handler) and not
 * counted; pass 0 at the end, after the load stopped, to count every event.
 */
export async function readInvariants(sources: InvariantSources, graceMs: number): Promise<DemoInvariants> {
  const { url, schema } = sources.database;
  const [seats] = await sql<{ off: string; over: string }>(
    url,
    `SELECT count(*) FILTER (WHERE s.booked_seats <> b.booked OR s.held_seats <> h.held) AS off,
            count(*) FILTER (WHERE b.booked + h.held > s.capacity OR s.booked_seats + s.held_seats > s.capacity) AS over
       FROM slots s,
            LATERAL (SELECT coalesce(sum(seats), 0) AS booked FROM bookings
                      WHERE slot_id = s.id AND status = 'confirmed') b,
            LATERAL (SELECT coalesce(sum(seats), 0) AS held FROM holds
                      WHERE slot_id = s.id AND status = 'held') h`,
    [],
    schema,
  );
  const [counts] = await sql<Record<string, string>>(
    url,
    `SELECT (SELECT count(*) FROM bookings) AS bookings,
            (SELECT count(*) FROM bookings WHERE status = 'cancelled') AS cancelled,
            (SELECT count(*) FROM holds) AS holds,
            (SELECT count(*) FROM holds WHERE status = 'released') AS released,
            (SELECT count(*) FROM (SELECT hold_id FROM hold_releases GROUP BY hold_id HAVING count(*) > 1) x)
              AS released_twice,
            (SELECT count(*) FROM (SELECT hold_id FROM bookings WHERE hold_id IS NOT NULL
                                    GROUP BY hold_id HAVING count(*) > 1) x) AS booked_twice,
            (SELECT count(*) FROM holds WHERE status = 'held'
                AND expires_at < now() - make_interval(secs => $1::double precision / 1000)) AS stuck`,
    [graceMs],
    schema,
  );
  const due = await sql<{ id: string; cancelled: boolean }>(
    url,
    `SELECT id, (status = 'cancelled' AND cancelled_at < now() - make_interval(secs => $1::double precision / 1000))
              AS cancelled
       FROM bookings WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [graceMs],
    schema,
  );
  const unhandledEvents = await countUnhandled(sources, due).catch(() => undefined);
  return {
    oversold: Number(seats!.off) + Number(seats!.over),
    releasedTwice: Number(counts!.released_twice),
    bookedTwice: Number(counts!.booked_twice),
    stuckHolds: Number(counts!.stuck),
    unhandledEvents,
    bookings: Number(counts!.bookings),
    cancelled: Number(counts!.cancelled),
    holds: Number(counts!.holds),
    released: Number(counts!.released),
  };
}

/** True when every invariant holds (an unreadable Redis counts as not holding). */
export function invariantsHold(invariants: DemoInvariants): boolean {
  return (
    invariants.oversold === 0 &&
    invariants.releasedTwice === 0 &&
    invariants.bookedTwice === 0 &&
    invariants.stuckHolds === 0 &&
    invariants.unhandledEvents === 0
  );
}

/**
 * Looks each due booking up in the workers' records (`{booking-worker}:notifications` for its creation,
 * `{booking-worker}:cancellations` for its cancellation, as `BookingEventsService` keeps them).
 */
async function countUnhandled(sources: InvariantSources, due: { id: string; cancelled: boolean }[]): Promise<number> {
  const key = (name: string) => `${sources.keyPrefix}{booking-worker}:${name}`;
  let missing = 0;
  for (let i = 0; i < due.length; i += 500) {
    const batch = due.slice(i, i + 500);
    const created = await sources.redis.hmget(key('notifications'), ...batch.map((b) => b.id));
    missing += created.filter((value) => value === null).length;
    const cancelled = batch.filter((b) => b.cancelled);
    if (cancelled.length > 0) {
      const recorded = await sources.redis.hmget(key('cancellations'), ...cancelled.map((b) => b.id));
      missing += recorded.filter((value) => value === null).length;
    }
  }
  return missing;
}
