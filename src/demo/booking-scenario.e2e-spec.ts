import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { TEST_DATABASE_URL } from '../../apps/booking-api/test/support/test-database.js';
import { freePort, uniqueKeyPrefix, REDIS_URL, useRedisClient } from '@test/harness';
import { AppProcess } from './app-process.js';
import { runBookingScenario, type ScenarioReport } from './booking-scenario.js';
import { runHoldsScenario, type HoldsScenarioReport } from './holds-scenario.js';
import { sql } from './sql-client.js';

const TS_LOADER = ['--import', './src/runtime/register.mjs'];
const keyPrefix = uniqueKeyPrefix('scenario');
useRedisClient({ deleteKeysUnder: keyPrefix });

const HOLD_TTL_MS = 10_000;
const RATE_LIMIT = 10;

/**
 * The demo scenarios as a test: two booking-api processes and two booking-worker processes (run from source), on
 * the test PostgreSQL (a schema of its own) and the test Redis (a key prefix of its own).
 */
describe('booking scenario: 2 API processes + 2 worker processes, 200 concurrent attempts on a 10-seat slot, seat holds', () => {
  const schema = `t_scenario_${randomBytes(4).toString('hex')}`;
  const apps: AppProcess[] = [];
  let report: ScenarioReport;
  let holds: HoldsScenarioReport;

  beforeAll(async () => {
    const shared = {
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '5',
      SEED_DEMO_DATA: 'true',
      BOOKING_LOCK_WAIT_MS: '30000',
      HOLD_TTL_MS: String(HOLD_TTL_MS),
      RATE_LIMIT_LIMIT: String(RATE_LIMIT),
      PAYMENT_DELAY_MS: '100',
    };
    const [a, b, w, w2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const [ma, mb, mw, mw2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    apps.push(
      new AppProcess('booking-api #1', [...TS_LOADER, 'apps/booking-api/src/main.ts'], a, ma, {
        ...shared,
        PORT: String(a),
        MANAGEMENT_PORT: String(ma),
      }),
      new AppProcess('booking-api #2', [...TS_LOADER, 'apps/booking-api/src/main.ts'], b, mb, {
        ...shared,
        PORT: String(b),
        MANAGEMENT_PORT: String(mb),
      }),
      new AppProcess('booking-worker #1', [...TS_LOADER, 'apps/booking-worker/src/main.ts'], w, mw, {
        ...shared,
        DATABASE_POOL_SIZE: '2',
        WORKER_ID: 'worker-1',
        WORKER_PORT: String(w),
        WORKER_MANAGEMENT_PORT: String(mw),
      }),
      new AppProcess('booking-worker #2', [...TS_LOADER, 'apps/booking-worker/src/main.ts'], w2, mw2, {
        ...shared,
        DATABASE_POOL_SIZE: '2',
        WORKER_ID: 'worker-2',
        WORKER_PORT: String(w2),
        WORKER_MANAGEMENT_PORT: String(mw2),
      }),
    );
    apps.forEach((app) => app.start());
    for (const app of apps) expect((await app.waitHealthy('/health', 60_000)).status).toBe(200);
    report = await runBookingScenario(
      {
        apiUrls: [apps[0]!.baseUrl, apps[1]!.baseUrl],
        workerUrl: apps[2]!.baseUrl,
        venueId: DEMO_VENUE_ID,
        date: new Date().toISOString().slice(0, 10),
        database: { url: TEST_DATABASE_URL, schema },
      },
      { attempts: 200, reads: 200, replays: 5 },
    );
    holds = await runHoldsScenario({
      apiUrls: [apps[0]!.baseUrl, apps[1]!.baseUrl],
      workerUrls: [apps[2]!.baseUrl, apps[3]!.baseUrl],
      venueId: DEMO_VENUE_ID,
      date: new Date().toISOString().slice(0, 10),
      database: { url: TEST_DATABASE_URL, schema },
      holdTtlMs: HOLD_TTL_MS,
      rateLimit: RATE_LIMIT,
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await sql(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }, 30_000);

  it('confirms exactly 10 bookings and answers every other attempt 409 sold out', () => {
    expect(report.attempts).toEqual({ '201': 10, '409 SOLD_OUT': 190 });
  });

  it('holds every invariant of the demo (database, idempotency, cache freshness, cancellation, worker)', () => {
    const failed = report.checks.filter((check) => check.outcome !== 'ok');
    expect(failed).toEqual([]);
    expect(report.checks.map((check) => check.name)).toEqual([
      'exactly 10 of 200 attempts confirmed (201)',
      'every other attempt answered 409 sold out',
      '5 replays (same Idempotency-Key) returned the same booking',
      'database: 10 confirmed bookings, 10/10 seats, unique fencing tokens',
      'availability: all 200 reads show 10/10 booked',
      'availability: cache hit ratio at least 90% (after one warm-up read per replica)',
      'cancellation: every replica shows the freed seat at once; a new booking takes it',
      'worker: one notification per booking (11), 12 events handled once',
      "worker: the venue's counters match the bookings",
    ]);
  });

  it('records 11 notifications (10 bookings + the one that took the freed seat), no duplicates', () => {
    expect(report.worker).toEqual({ eventsHandled: 12, duplicatesIgnored: 0, notifications: 11 });
  });

  it('seat holds: 50 of 60 held, 20 confirmed, 5 cancelled, 25 + 40 expired holds released once; 12 × 429', () => {
    expect(holds.checks.filter((check) => check.outcome !== 'ok')).toEqual([]);
    expect(holds.holds).toEqual({ placed: 50, confirmed: 20, cancelled: 5, released: 65 });
    expect(holds.rateLimited).toEqual({ clients: 4, refused: 12, expected: 12 });
    expect(holds.payments.calls).toBe(20);
    expect(holds.payments.mostAtOnce).toBeLessThanOrEqual(holds.payments.permits);
    expect(holds.ticks.runs).toBe(holds.ticks.span);
  });
});
