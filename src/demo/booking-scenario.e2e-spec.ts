import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { TEST_DATABASE_URL } from '../../apps/booking-api/test/support/test-database.js';
import { freePort } from '../../test/harness/free-port.js';
import { deleteKeysWithPrefix, uniqueKeyPrefix } from '../../test/harness/key-prefix.js';
import { REDIS_URL } from '../../test/harness/redis-url.js';
import { Redis } from 'ioredis';
import { AppProcess } from './app-process.js';
import { runBookingScenario, type ScenarioReport } from './booking-scenario.js';
import { sql } from './sql-client.js';

const TS_LOADER = ['--import', './src/runtime/register.mjs'];

/**
 * The demo scenario as a test: two booking-api processes and one booking-worker process (run from source), on the
 * test PostgreSQL (a schema of its own) and the test Redis (a key prefix of its own).
 */
describe('booking scenario: 2 API processes + 1 worker process, 200 concurrent attempts on a 10-seat slot', () => {
  const keyPrefix = uniqueKeyPrefix('scenario');
  const schema = `t_scenario_${randomBytes(4).toString('hex')}`;
  const apps: AppProcess[] = [];
  let report: ScenarioReport;

  beforeAll(async () => {
    const shared = {
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '5',
      SEED_DEMO_DATA: 'true',
      BOOKING_LOCK_WAIT_MS: '30000',
    };
    const [a, b, w] = [await freePort(), await freePort(), await freePort()];
    apps.push(
      new AppProcess('booking-api #1', [...TS_LOADER, 'apps/booking-api/src/main.ts'], a, {
        ...shared,
        PORT: String(a),
      }),
      new AppProcess('booking-api #2', [...TS_LOADER, 'apps/booking-api/src/main.ts'], b, {
        ...shared,
        PORT: String(b),
      }),
      new AppProcess('booking-worker', [...TS_LOADER, 'apps/booking-worker/src/main.ts'], w, {
        ...shared,
        WORKER_PORT: String(w),
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
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await sql(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const redis = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(redis, keyPrefix);
    redis.disconnect();
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
});
