import { randomUUID } from 'node:crypto';
import { PAYMENT_PERMITS } from '../../apps/booking-api/src/payments/payment.constants.js';
import { accountTicks, type HoldsReleaseRun } from '../../apps/booking-worker/src/holds-release/holds-release.runs.js';
import { maxOverlap } from '../../test/harness/max-overlap.js';
import type { ScenarioCheck } from './booking-scenario.js';
import { http, type HttpResult } from './http.js';
import { sql } from './sql-client.js';

/** Where the holds scenario sends traffic and what it may inspect. */
export interface HoldsScenarioTargets {
  /** Base URLs of the API replicas; requests alternate between them. */
  apiUrls: string[];
  /** Base URLs of the worker replicas (each serves the shared run log of the hold-release job). */
  workerUrls: string[];
  venueId: string;
  /** The day (UTC, YYYY-MM-DD) whose 50-seat and 200-seat slots are used. */
  date: string;
  database: { url: string; schema?: string };
  /** The apps' `HOLD_TTL_MS`. */
  holdTtlMs: number;
  /** The apps' `RATE_LIMIT_LIMIT` (per client and route, per window). */
  rateLimit: number;
}

/** How hard the holds scenario pushes. */
export interface HoldsScenarioOptions {
  /** Customers racing for the 50 seats of one slot. @default 60 */
  customers?: number;
  /** Holds confirmed (through the payment step). @default 20 */
  confirmations?: number;
  /** Holds cancelled. @default 5 */
  cancellations?: number;
  /** Clients that go over the rate limit, and by how many requests each. @default { clients: 4, extra: 3 } */
  overLimit?: { clients: number; extra: number };
  onProgress?: (phase: string, done: number, total: number, tally: Record<string, number>) => void;
}

/** What the holds scenario observed. */
export interface HoldsScenarioReport {
  checks: ScenarioCheck[];
  holds: { placed: number; confirmed: number; cancelled: number; released: number };
  rateLimited: { clients: number; refused: number; expected: number };
  payments: { calls: number; mostAtOnce: number; permits: number };
  ticks: { runs: number; perWorker: Record<string, number>; span: number };
}

interface HoldBody {
  id: string;
  createdAt: string;
  code?: string;
}

interface SlotView {
  slotId: string;
  capacity: number;
  bookedSeats: number;
  availableSeats: number;
}

/**
 * Seat holds against running apps: customers race for a 50-seat slot with `POST /holds`; some holds are confirmed
 * (`POST /bookings { holdId }`, through the semaphore-capped payment step), some cancelled, the rest left to expire;
 * a few clients go over the per-client limit; then the scenario waits for the workers' scheduled job to release the
 * expired holds and checks, from the database and the job's run log: no seat sold twice, every expired hold released
 * exactly once, one run per tick, the expected 429s, the payment cap.
 */
export async function runHoldsScenario(
  targets: HoldsScenarioTargets,
  options: HoldsScenarioOptions = {},
): Promise<HoldsScenarioReport> {
  const customers = options.customers ?? 60;
  const confirmations = options.confirmations ?? 20;
  const cancellations = options.cancellations ?? 5;
  const overLimit = options.overLimit ?? { clients: 4, extra: 3 };
  const progress = options.onProgress ?? (() => undefined);
  const checks: ScenarioCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) =>
    checks.push({ name, outcome: ok ? 'ok' : 'failed', detail });
  const replica = (i: number) => targets.apiUrls[i % targets.apiUrls.length]!;
  const startedAt = Date.now();

  const venue = await http<{ slots: SlotView[] }>(
    'GET',
    `${replica(0)}/venues/${targets.venueId}/availability?date=${targets.date}`,
  );
  const slotOf = (capacity: number) =>
    venue.status === 200 ? venue.body.slots.find((s) => s.capacity === capacity && s.bookedSeats === 0) : undefined;
  const slot = slotOf(50);
  const bigSlot = slotOf(200);
  if (!slot || !bigSlot) throw new Error(`No free 50- and 200-seat slots: ${JSON.stringify(venue.body)}`);

  // 1. The race: every customer holds one seat at once, alternating replicas.
  const tally: Record<string, number> = {};
  let done = 0;
  const placed = await Promise.all(
    Array.from({ length: customers }, async (_, i) => {
      const result = await http<HoldBody>('POST', `${replica(i)}/holds`, {
        body: { slotId: slot.slotId, customerEmail: `holder${i}@example.com`, seats: 1 },
        headers: { 'x-client-id': `holder-${i}` },
        timeoutMs: 60_000,
      });
      const label =
        result.status === 409
          ? `409 ${result.body.code ?? ''}`.trim()
          : result.status === 0
            ? `0 (${String(result.body)})` // no answer: the network error or the timeout, for the report
            : String(result.status);
      tally[label] = (tally[label] ?? 0) + 1;
      progress('seat holds', ++done, customers, tally);
      return { result, client: `holder-${i}` };
    }),
  );
  const held = placed.filter(({ result }) => result.status === 201);
  check(
    `holds: exactly ${slot.capacity} of ${customers} customers got a hold, the others 409 sold out`,
    held.length === slot.capacity && (tally['409 SOLD_OUT'] ?? 0) === customers - slot.capacity,
    Object.entries(tally)
      .map(([status, count]) => `${count}× ${status}`)
      .join(', '),
  );

  // 2. The newest holds are confirmed (payment, then booking), a few cancelled, the rest left to expire.
  const byAge = [...held].sort((a, b) => Date.parse(b.result.body.createdAt) - Date.parse(a.result.body.createdAt));
  const toConfirm = byAge.slice(0, confirmations);
  const toCancel = byAge.slice(confirmations, confirmations + cancellations);
  const toExpire = byAge.slice(confirmations + cancellations);
  done = 0;
  const confirmTally: Record<string, number> = {};
  const confirmed = await Promise.all(
    toConfirm.map(async ({ result, client }, i) => {
      const response = await http('POST', `${replica(i)}/bookings`, {
        body: { holdId: result.body.id },
        headers: { 'idempotency-key': randomUUID(), 'x-client-id': client },
        timeoutMs: 60_000,
      });
      confirmTally[response.status] = (confirmTally[response.status] ?? 0) + 1;
      progress('confirmations', ++done, toConfirm.length, confirmTally);
      return response;
    }),
  );
  const cancelled = await Promise.all(
    toCancel.map(({ result }, i) => http<{ status: string }>('DELETE', `${replica(i + 1)}/holds/${result.body.id}`)),
  );
  check(
    `holds: ${toConfirm.length} confirmed after payment (201), ${toCancel.length} cancelled (200)`,
    confirmed.every((r) => r.status === 201) &&
      cancelled.every((r) => r.status === 200 && r.body.status === 'cancelled'),
    `confirmations ${statusList(confirmed)}, cancellations ${statusList(cancelled)}`,
  );

  // 3. Clients over the limit: each sends limit + extra holds on the 200-seat slot, alternating replicas.
  const perClient = targets.rateLimit + overLimit.extra;
  const limitClients = Array.from({ length: overLimit.clients }, (_, c) => `burst-client-${c}`);
  done = 0;
  const limited = await Promise.all(
    limitClients.flatMap((client, c) =>
      Array.from({ length: perClient }, async (_, i) => {
        const result = await http<HoldBody>('POST', `${replica(c + i)}/holds`, {
          body: { slotId: bigSlot.slotId, customerEmail: `${client}@example.com`, seats: 1 },
          headers: { 'x-client-id': client },
          timeoutMs: 60_000,
        });
        progress('rate limits', ++done, limitClients.length * perClient, {});
        return { client, result };
      }),
    ),
  );
  const refused = limited.filter(({ result }) => result.status === 429);
  const expectedRefusals = overLimit.clients * overLimit.extra;
  const perClientOk = limitClients.every(
    (client) =>
      limited.filter((r) => r.client === client && r.result.status === 201).length === targets.rateLimit &&
      limited.filter((r) => r.client === client && r.result.status === 429).length === overLimit.extra,
  );
  const headersOk = refused.every(({ result }) =>
    ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].every((h) => result.headers.has(h)),
  );
  check(
    `rate limits: ${overLimit.clients} clients × ${perClient} holds over both replicas → exactly ${expectedRefusals} 429s`,
    refused.length === expectedRefusals && perClientOk && headersOk,
    `${refused.length} × 429 (${overLimit.extra} per client, limit ${targets.rateLimit}), ` +
      `${headersOk ? 'each with Retry-After and RateLimit-*' : 'headers missing'}`,
  );
  const burstHolds = limited.filter(({ result }) => result.status === 201).map(({ result }) => result.body.id);

  // 4. Wait for every unconfirmed, uncancelled hold to expire and be released by the workers' job.
  const expiring = [...toExpire.map(({ result }) => result.body.id), ...burstHolds];
  const released = await waitForReleases(targets, expiring, progress);
  const releases = await sql<{ hold_id: string; times: string }>(
    targets.database.url,
    `SELECT hold_id, count(*) AS times FROM hold_releases WHERE hold_id = ANY($1::uuid[]) GROUP BY hold_id`,
    [expiring],
    targets.database.schema,
  );
  const twice = releases.filter((r) => Number(r.times) > 1).length;
  check(
    `expiry: all ${expiring.length} expired holds released exactly once by the workers' job`,
    released === expiring.length && releases.length === expiring.length && twice === 0,
    `${releases.length} released (${twice} more than once), ${expiring.length - releases.length} not released`,
  );
  const late = await http('POST', `${replica(0)}/bookings`, {
    body: { holdId: toExpire[0]?.result.body.id ?? randomUUID() },
    headers: { 'idempotency-key': randomUUID(), 'x-client-id': 'late-holder' },
  });
  const after = await http<{ slots: SlotView[] }>(
    'GET',
    `${replica(1)}/venues/${targets.venueId}/availability?date=${targets.date}`,
  );
  const seen = after.status === 200 ? after.body.slots.find((s) => s.slotId === slot.slotId) : undefined;
  check(
    'expiry: a released hold answers 410; its seats are free again on every replica',
    late.status === 410 &&
      seen?.bookedSeats === toConfirm.length &&
      seen.availableSeats === slot.capacity - toConfirm.length,
    `confirming it → ${late.status}; slot shows ${seen?.bookedSeats ?? '?'} booked, ${seen?.availableSeats ?? '?'} free`,
  );

  // 5. No seat sold twice: every slot's counters match its rows and stay within capacity; a hold makes one booking.
  const [seats] = await sql<{ slots: string; off: string; over: string; holds_booked_twice: string }>(
    targets.database.url,
    `SELECT count(*) AS slots,
            count(*) FILTER (WHERE s.booked_seats <> b.booked OR s.held_seats <> h.held) AS off,
            count(*) FILTER (WHERE b.booked + h.held > s.capacity) AS over,
            (SELECT count(*) FROM (SELECT hold_id FROM bookings WHERE hold_id IS NOT NULL
                                    GROUP BY hold_id HAVING count(*) > 1) x) AS holds_booked_twice
       FROM slots s,
            LATERAL (SELECT coalesce(sum(seats), 0) AS booked FROM bookings
                      WHERE slot_id = s.id AND status = 'confirmed') b,
            LATERAL (SELECT coalesce(sum(seats), 0) AS held FROM holds
                      WHERE slot_id = s.id AND status = 'held') h`,
    [],
    targets.database.schema,
  );
  check(
    'no seat sold twice: booked + held ≤ capacity on every slot, counters match their rows, one booking per hold',
    Number(seats!.off) === 0 && Number(seats!.over) === 0 && Number(seats!.holds_booked_twice) === 0,
    `${seats!.slots} slots: ${seats!.over} over capacity, ${seats!.off} counters off, ` +
      `${seats!.holds_booked_twice} holds booked twice`,
  );

  // 6. The payment step: never more than PAYMENT_PERMITS calls at once, across both replicas.
  const payments = await sql<{ started_at_ms: string; finished_at_ms: string }>(
    targets.database.url,
    `SELECT started_at_ms, finished_at_ms FROM payments`,
    [],
    targets.database.schema,
  );
  const mostAtOnce = maxOverlap(
    payments.map((p) => ({ start: Number(p.started_at_ms), end: Number(p.finished_at_ms) })),
  );
  check(
    `payments: at most ${PAYMENT_PERMITS} at once across replicas (semaphore)`,
    payments.length === toConfirm.length && mostAtOnce <= PAYMENT_PERMITS && mostAtOnce > 0,
    `${payments.length} calls, at most ${mostAtOnce} at once`,
  );

  // 7. The job's run log: since the scenario started, no tick ran twice, fencing tokens increase, and every tick
  // missing from the log is accounted for (skipped by design: @OncePerCluster never queues or repeats a tick).
  const log = await http<{ runs: HoldsReleaseRun[] }>('GET', `${targets.workerUrls[0]}/holds-release/runs`);
  const runs = log.status === 200 ? log.body.runs.filter((run) => run.tick >= startedAt) : [];
  const account = accountTicks(runs);
  const span = account.span;
  const perWorker: Record<string, number> = {};
  for (const run of runs) perWorker[run.workerId] = (perWorker[run.workerId] ?? 0) + 1;
  const byTick = [...runs].sort((a, b) => a.tick - b.tick);
  const fenced = byTick.every((run, i) => i === 0 || run.fencingToken > byTick[i - 1]!.fencingToken);
  // A job that stalls for real (a quarter of its ticks lost) fails; a tick lost to a starved machine is reported.
  const live = account.skippedOther.length <= span / 4;
  check(
    'hold-release job: each tick ran on at most one worker (none twice), fencing tokens increase, missing ticks accounted for',
    runs.length > 0 && account.twice.length === 0 && fenced && live,
    `${runs.length} runs over ${span} ticks (${account.skippedBusy.length} skipped while the previous run still ran, ` +
      `${account.skippedOther.length} not fired in time); per worker: ${Object.entries(perWorker)
        .map(([worker, count]) => `${worker} ${count}`)
        .join(', ')}`,
  );

  return {
    checks,
    holds: { placed: held.length, confirmed: toConfirm.length, cancelled: toCancel.length, released },
    rateLimited: { clients: overLimit.clients, refused: refused.length, expected: expectedRefusals },
    payments: { calls: payments.length, mostAtOnce, permits: PAYMENT_PERMITS },
    ticks: { runs: runs.length, perWorker, span },
  };

  async function waitForReleases(
    where: HoldsScenarioTargets,
    holdIds: string[],
    report: NonNullable<HoldsScenarioOptions['onProgress']>,
  ): Promise<number> {
    const deadline = Date.now() + where.holdTtlMs + 30_000;
    let count = 0;
    while (Date.now() < deadline) {
      const [row] = await sql<{ released: string }>(
        where.database.url,
        `SELECT count(*) AS released FROM holds WHERE id = ANY($1::uuid[]) AND status = 'released'`,
        [holdIds],
        where.database.schema,
      );
      count = Number(row!.released);
      report('waiting for expiry', count, holdIds.length, {});
      if (count === holdIds.length) return count;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return count;
  }
}

function statusList(results: HttpResult[]): string {
  const counts: Record<string, number> = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  return (
    Object.entries(counts)
      .map(([status, count]) => `${count}× ${status}`)
      .join(', ') || 'none'
  );
}
