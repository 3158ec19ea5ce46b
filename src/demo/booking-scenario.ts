import { randomUUID } from 'node:crypto';
import { http, pool, type HttpResult } from './http.js';
import { sql } from './sql-client.js';

/** Where the scenario sends traffic and what it may inspect. */
export interface ScenarioTargets {
  /** Base URLs of the API replicas; requests alternate between them. */
  apiUrls: string[];
  workerUrl: string;
  venueId: string;
  /** The day (UTC, YYYY-MM-DD) whose 10-seat slot is booked. */
  date: string;
  database: { url: string; schema?: string };
}

/** How hard the scenario pushes. */
export interface ScenarioOptions {
  /** @default 200 */
  attempts?: number;
  /** @default 500 */
  reads?: number;
  /** Confirmed requests sent again with the same Idempotency-Key. @default 5 */
  replays?: number;
  /** Called as the scenario progresses, for a progress display. */
  onProgress?: (phase: string, done: number, total: number, tally: Record<string, number>) => void;
}

/** One invariant and what was observed. */
export interface ScenarioCheck {
  name: string;
  outcome: 'ok' | 'failed';
  detail: string;
}

/** What the scenario observed. */
export interface ScenarioReport {
  checks: ScenarioCheck[];
  /** Status code → count, for the booking burst. */
  attempts: Record<string, number>;
  /** Replica URL → confirmed bookings it answered. */
  confirmedPerReplica: Record<string, number>;
  cacheHitRatio: number;
  burstMs: number;
  readsPerSecond: number;
  worker: { eventsHandled: number; duplicatesIgnored: number; notifications: number } | null;
}

interface SlotView {
  slotId: string;
  capacity: number;
  bookedSeats: number;
}

interface BookingBody {
  id: string;
  seats: number;
  code?: string;
}

/**
 * The demo's booking scenario against running apps: a burst of concurrent one-seat bookings for a 10-seat slot
 * across every replica, idempotent replays, a burst of availability reads, a cancellation and a new booking, then
 * what the database and the worker recorded. Each invariant becomes a {@link ScenarioCheck}.
 */
export async function runBookingScenario(
  targets: ScenarioTargets,
  options: ScenarioOptions = {},
): Promise<ScenarioReport> {
  const attempts = options.attempts ?? 200;
  const reads = options.reads ?? 500;
  const replays = options.replays ?? 5;
  const progress = options.onProgress ?? (() => undefined);
  const checks: ScenarioCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) =>
    checks.push({ name, outcome: ok ? 'ok' : 'failed', detail });
  const replica = (i: number) => targets.apiUrls[i % targets.apiUrls.length]!;
  const availabilityUrl = (i: number) => `${replica(i)}/venues/${targets.venueId}/availability?date=${targets.date}`;

  const venue = await http<{ slots: SlotView[] }>('GET', availabilityUrl(0));
  const slot =
    venue.status === 200 ? venue.body.slots.find((s) => s.capacity === 10 && s.bookedSeats === 0) : undefined;
  if (!slot)
    throw new Error(
      `No free 10-seat slot at venue ${targets.venueId} on ${targets.date}: ${JSON.stringify(venue.body)}`,
    );
  const capacity = slot.capacity;

  // 1. The burst: every attempt at once, alternating replicas, one seat each, each with its own key.
  const tally: Record<string, number> = {};
  const confirmedPerReplica = Object.fromEntries(targets.apiUrls.map((url) => [url, 0]));
  // Each customer is its own client for the per-client rate limits (X-Client-Id), as behind a gateway.
  const requests = Array.from({ length: attempts }, (_, i) => ({
    url: replica(i),
    key: randomUUID(),
    client: `customer-${i}`,
    body: { slotId: slot.slotId, customerEmail: `customer${i}@example.com`, seats: 1 },
  }));
  let done = 0;
  const started = Date.now();
  const results = await Promise.all(
    requests.map(async (request) => {
      const result = await http<BookingBody>('POST', `${request.url}/bookings`, {
        body: request.body,
        headers: { 'idempotency-key': request.key, 'x-client-id': request.client },
        timeoutMs: 60_000,
      });
      const label = result.status === 409 ? `409 ${result.body.code ?? ''}`.trim() : String(result.status);
      tally[label] = (tally[label] ?? 0) + 1;
      if (result.status === 201) confirmedPerReplica[request.url]! += 1;
      progress('booking burst', ++done, attempts, tally);
      return result;
    }),
  );
  const burstMs = Date.now() - started;
  const confirmed = results.flatMap((result, i) => (result.status === 201 ? [{ result, request: requests[i]! }] : []));
  check(
    `exactly ${capacity} of ${attempts} attempts confirmed (201)`,
    confirmed.length === capacity,
    `${confirmed.length} confirmed (per replica: ${Object.values(confirmedPerReplica).join(' + ')})`,
  );
  const soldOut = tally['409 SOLD_OUT'] ?? 0;
  check(
    `every other attempt answered 409 sold out`,
    soldOut === attempts - capacity && confirmed.length + soldOut === attempts,
    Object.entries(tally)
      .map(([status, count]) => `${count}× ${status}`)
      .join(', '),
  );

  // 2. Replays: the same key and body again, on the other replica, return the same booking.
  const replayed = await Promise.all(
    confirmed.slice(0, replays).map(({ request }, i) =>
      http<BookingBody>('POST', `${replica(i + 1)}/bookings`, {
        body: request.body,
        headers: { 'idempotency-key': request.key, 'x-client-id': request.client },
      }),
    ),
  );
  const sameBookings = replayed.every((r, i) => r.status === 200 && r.body.id === confirmed[i]!.result.body.id);
  check(
    `${replayed.length} replays (same Idempotency-Key) returned the same booking`,
    sameBookings && replayed.length === Math.min(replays, confirmed.length),
    replayed.map((r) => r.status).join(', ') || 'none',
  );

  // 3. The database agrees.
  const db = await databaseState(targets, slot.slotId);
  check(
    `database: ${capacity} confirmed bookings, ${capacity}/${capacity} seats, unique fencing tokens`,
    db.confirmed === capacity && db.bookedSeats === capacity && db.distinctTokens === db.bookings && db.tokensFenced,
    `${db.confirmed} confirmed, ${db.bookedSeats}/${db.capacity} seats, ${db.distinctTokens} distinct tokens of ` +
      `${db.bookings}, last token on the slot ${db.lastToken}`,
  );

  // 4. A burst of availability reads across replicas: fresh, and mostly served by the cache. One read per replica
  // first, so the ratio measures the warm cache (the cold wave's concurrent misses share one load per replica).
  await Promise.all(targets.apiUrls.map((_, i) => http('GET', availabilityUrl(i))));
  let hits = 0;
  let fresh = 0;
  // What the other reads got, so a failed check says whether they were stale (a seat count) or failed (a status).
  const notFresh = new Map<string, number>();
  done = 0;
  const readsStarted = Date.now();
  await pool(reads, 50, async (i) => {
    const result = await http<{ slots: SlotView[] }>('GET', availabilityUrl(i));
    if (/;\s*hit\b/.test(result.headers.get('cache-status') ?? '')) hits++;
    const booked = bookedSeatsIn(result, slot.slotId);
    if (booked === capacity) fresh++;
    else {
      const failure = result.status === 0 ? ` (${String(result.body)})` : '';
      const seen = booked === undefined ? `status ${result.status}${failure}` : `${booked}/${capacity} booked`;
      notFresh.set(seen, (notFresh.get(seen) ?? 0) + 1);
    }
    progress('availability reads', ++done, reads, { hits, fresh });
  });
  const readsPerSecond = Math.round((reads / Math.max(1, Date.now() - readsStarted)) * 1000);
  const cacheHitRatio = reads === 0 ? 0 : hits / reads;
  check(
    `availability: all ${reads} reads show ${capacity}/${capacity} booked`,
    fresh === reads,
    `${fresh} of ${reads}` +
      (notFresh.size === 0 ? '' : ` (others: ${[...notFresh].map(([seen, n]) => `${n}× ${seen}`).join(', ')})`),
  );
  check(
    'availability: cache hit ratio at least 90% (after one warm-up read per replica)',
    cacheHitRatio >= 0.9,
    `${(cacheHitRatio * 100).toFixed(1)}% (${hits} hits of ${reads}), ${readsPerSecond} reads/s`,
  );

  // 5. A cancellation frees a seat, visible at once on every replica, and the next booking takes it.
  const cancelled = await http<BookingBody & { status: string }>(
    'DELETE',
    `${replica(0)}/bookings/${confirmed[0]?.result.body.id ?? randomUUID()}`,
  );
  const afterCancel = await Promise.all(
    targets.apiUrls.map((_, i) => http<{ slots: SlotView[] }>('GET', availabilityUrl(i))),
  );
  const rebook = await http<BookingBody>('POST', `${replica(1)}/bookings`, {
    body: { slotId: slot.slotId, customerEmail: 'late@example.com', seats: 1 },
    headers: { 'idempotency-key': randomUUID(), 'x-client-id': 'late-customer' },
  });
  const seen = afterCancel.map((r) => bookedSeatsIn(r, slot.slotId));
  check(
    'cancellation: every replica shows the freed seat at once; a new booking takes it',
    cancelled.status === 200 &&
      cancelled.body.status === 'cancelled' &&
      seen.every((s) => s === capacity - 1) &&
      rebook.status === 201,
    `DELETE → ${cancelled.status}, replicas show ${seen.join('/')} booked, rebooking → ${rebook.status}`,
  );

  // 6. The worker: one notification per booking, every event handled once.
  const bookingsMade = confirmed.length + (rebook.status === 201 ? 1 : 0);
  const eventsExpected = bookingsMade + (cancelled.status === 200 ? 1 : 0);
  const worker = await waitForWorker(targets.workerUrl, eventsExpected);
  const counters = await http<{ bookings: number; cancellations: number; seatsBooked: number }>(
    'GET',
    `${targets.workerUrl}/venues/${targets.venueId}/counters`,
  );
  check(
    `worker: one notification per booking (${bookingsMade}), ${eventsExpected} events handled once`,
    worker !== null && worker.notifications === bookingsMade && worker.eventsHandled === eventsExpected,
    worker === null
      ? 'no answer from the worker'
      : `${worker.notifications} notifications, ${worker.eventsHandled} events handled, ` +
          `${worker.duplicatesIgnored} duplicates ignored`,
  );
  check(
    "worker: the venue's counters match the bookings",
    counters.status === 200 &&
      counters.body.bookings === bookingsMade &&
      counters.body.cancellations === 1 &&
      counters.body.seatsBooked === capacity,
    counters.status === 200
      ? `${counters.body.bookings} bookings, ${counters.body.cancellations} cancellation(s), ${counters.body.seatsBooked} seats`
      : `GET counters → ${counters.status}`,
  );

  return { checks, attempts: tally, confirmedPerReplica, cacheHitRatio, burstMs, readsPerSecond, worker };
}

function bookedSeatsIn(result: HttpResult<{ slots: SlotView[] }>, slotId: string): number | undefined {
  return result.status === 200 ? result.body.slots.find((s) => s.slotId === slotId)?.bookedSeats : undefined;
}

async function databaseState(targets: ScenarioTargets, slotId: string) {
  const { url, schema } = targets.database;
  const [bookings] = await sql<{ bookings: string; confirmed: string; distinct_tokens: string; max_token: string }>(
    url,
    `SELECT count(*) AS bookings,
            count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
            count(DISTINCT fencing_token) AS distinct_tokens,
            coalesce(max(fencing_token), 0) AS max_token
       FROM bookings WHERE slot_id = $1`,
    [slotId],
    schema,
  );
  const [slot] = await sql<{ capacity: number; booked_seats: number; last_fencing_token: string }>(
    url,
    `SELECT capacity, booked_seats, last_fencing_token FROM slots WHERE id = $1`,
    [slotId],
    schema,
  );
  return {
    bookings: Number(bookings!.bookings),
    confirmed: Number(bookings!.confirmed),
    distinctTokens: Number(bookings!.distinct_tokens),
    capacity: Number(slot!.capacity),
    bookedSeats: Number(slot!.booked_seats),
    lastToken: Number(slot!.last_fencing_token),
    tokensFenced: Number(bookings!.max_token) <= Number(slot!.last_fencing_token),
  };
}

/** Polls the worker's totals until `events` were handled or 20 s pass; `null` if it never answered. */
async function waitForWorker(workerUrl: string, events: number) {
  type Stats = { eventsHandled: number; duplicatesIgnored: number; notifications: number };
  const deadline = Date.now() + 20_000;
  let last: Stats | null = null;
  while (Date.now() < deadline) {
    const stats = await http<Stats>('GET', `${workerUrl}/stats`);
    if (stats.status === 200) {
      last = stats.body;
      if (last.eventsHandled >= events) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}
