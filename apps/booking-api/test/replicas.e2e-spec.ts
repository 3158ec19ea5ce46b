import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, maxOverlap, REDIS_URL, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { AppProcess } from '../../../src/demo/app-process.js';
import { http, type HttpResult } from '../../../src/demo/http.js';
import { DEMO_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { PAYMENT_PERMITS } from '../src/payments/payment.constants.js';
import { TEST_DATABASE_URL, TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded: 200 seats. */
const BIG_SLOT = seedSlotId(DEMO_VENUE_ID, TODAY, 18);
/** Seeded: 50 seats. */
const FIFTY_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
const LIMIT = 5;
const WINDOW_MS = 60_000;
const CONFIRMATIONS = 12;

const keyPrefix = uniqueKeyPrefix('api-replicas');
useRedisClient({ deleteKeysUnder: keyPrefix });

/**
 * Two booking-api processes (run from source, `createApp()` as `main.ts` runs it: with `@nestjs/throttler`, which
 * Jest cannot load in-process) on one Redis prefix and one PostgreSQL schema: the per-client limits count across
 * both, and the payment step's semaphore caps calls across both.
 */
describe('booking-api: 2 processes share the per-client rate limits and the payment semaphore', () => {
  const schema = new TestSchema('api_replicas');
  const replicas: AppProcess[] = [];
  const url = (i: number) => replicas[i % replicas.length]!.baseUrl;
  const holdAs = (client: string | undefined, i: number, slotId = BIG_SLOT) =>
    http<{ id: string }>('POST', `${url(i)}/holds`, {
      body: { slotId, customerEmail: `${client ?? 'anonymous'}@example.com`, seats: 1 },
      headers: client === undefined ? {} : { 'x-client-id': client },
    });

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const [port, managementPort] = [await freePort(), await freePort()];
      replicas.push(
        new AppProcess(
          `booking-api ${name}`,
          ['--import', './src/runtime/register.mjs', 'apps/booking-api/src/main.ts'],
          port,
          managementPort,
          {
            PORT: String(port),
            MANAGEMENT_PORT: String(managementPort),
            REDIS_URL,
            REDIS_KEY_PREFIX: keyPrefix,
            DATABASE_URL: TEST_DATABASE_URL,
            DATABASE_SCHEMA: schema.name,
            DATABASE_POOL_SIZE: '4',
            SEED_DEMO_DATA: 'true',
            RATE_LIMIT_LIMIT: String(LIMIT),
            RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
            PAYMENT_DELAY_MS: '150',
            BOOKING_LOCK_WAIT_MS: '30000',
          },
        ),
      );
    }
    replicas.forEach((replica) => replica.start());
    for (const replica of replicas) expect((await replica.waitHealthy('/health/ready', 90_000)).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await schema.drop();
  });

  describe('rate limits (@nestjs/throttler + RedisThrottlerStorage)', () => {
    it(`4 clients × ${LIMIT + 3} concurrent POST /holds over both replicas: exactly ${LIMIT} each pass, 3 each get 429`, async () => {
      const clients = ['ada', 'grace', 'alan', 'edsger'].map((name) => `${name}-${randomUUID().slice(0, 8)}`);
      const results = await Promise.all(
        clients.flatMap((client) =>
          Array.from({ length: LIMIT + 3 }, async (_, i) => ({ client, result: await holdAs(client, i) })),
        ),
      );
      for (const client of clients) {
        const statuses = results.filter((r) => r.client === client).map((r) => r.result.status);
        expect(statuses.sort()).toEqual([...Array<number>(LIMIT).fill(201), 429, 429, 429]);
      }
      const refused = results.map((r) => r.result).filter((result) => result.status === 429);
      expect(refused).toHaveLength(12);
      for (const result of refused) {
        const retryAfter = Number(result.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
        expect(result.headers.get('ratelimit-limit')).toBe(String(LIMIT));
        expect(result.headers.get('ratelimit-remaining')).toBe('0');
        expect(result.headers.get('ratelimit-reset')).toBe(String(retryAfter));
        expect(result.body).toEqual({
          statusCode: 429,
          message: `Too many requests: at most ${LIMIT} per 60 s for this client; retry after ${retryAfter} s.`,
        });
      }
      const passed = results.map((r) => r.result).filter((result) => result.status === 201);
      const remaining = passed.map((result) => Number(result.headers.get('ratelimit-remaining'))).sort();
      expect(remaining).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
    });

    it('POST /bookings has a limit of its own per client; GET routes are not limited', async () => {
      const client = `booker-${randomUUID().slice(0, 8)}`;
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 2; i++) {
        const result = await http('POST', `${url(i)}/bookings`, {
          body: { slotId: BIG_SLOT, customerEmail: 'booker@example.com', seats: 1 },
          headers: { 'x-client-id': client, 'idempotency-key': randomUUID() },
        });
        statuses.push(result.status);
      }
      expect(statuses).toEqual([...Array<number>(LIMIT).fill(201), 429, 429]);
      // The same client's holds are counted apart from its bookings.
      expect((await holdAs(client, 0)).status).toBe(201);
      for (let i = 0; i < LIMIT + 2; i++) {
        const result = await http('GET', `${url(i)}/venues/${DEMO_VENUE_ID}/availability?date=${TODAY}`, {
          headers: { 'x-client-id': client },
        });
        expect(result.status).toBe(200);
      }
    });

    it('without X-Client-Id the remote address is the client; a malformed X-Client-Id answers 400', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 1; i++) statuses.push((await holdAs(undefined, i)).status);
      expect(statuses).toEqual([...Array<number>(LIMIT).fill(201), 429]);
      const malformed = await http('POST', `${url(0)}/holds`, {
        body: { slotId: BIG_SLOT, customerEmail: 'x@example.com', seats: 1 },
        headers: { 'x-client-id': 'not allowed!' },
      });
      expect(malformed).toMatchObject({
        status: 400,
        body: {
          statusCode: 400,
          error: 'Bad Request',
          message: ["X-Client-Id header must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-'"],
        },
      });
    });
  });

  it(`payment semaphore: ${CONFIRMATIONS} concurrent hold confirmations over both replicas, never more than ${PAYMENT_PERMITS} payments at once`, async () => {
    const holds = await Promise.all(
      Array.from({ length: CONFIRMATIONS }, (_, i) => holdAs(`payer-${i}-${randomUUID().slice(0, 8)}`, i, FIFTY_SEATS)),
    );
    expect(holds.map((hold) => hold.status)).toEqual(Array<number>(CONFIRMATIONS).fill(201));
    const confirmed: HttpResult[] = await Promise.all(
      holds.map((hold, i) =>
        http('POST', `${url(i)}/bookings`, {
          body: { holdId: hold.body.id },
          headers: { 'x-client-id': `payer-${i}`, 'idempotency-key': randomUUID() },
          timeoutMs: 60_000,
        }),
      ),
    );
    expect(confirmed.map((result) => result.status)).toEqual(Array<number>(CONFIRMATIONS).fill(201));
    const payments = await schema.query<{ instance: string; started_at_ms: string; finished_at_ms: string }>(
      `SELECT instance, started_at_ms, finished_at_ms FROM payments WHERE hold_id = ANY($1::uuid[])`,
      [holds.map((hold) => hold.body.id)],
    );
    expect(payments).toHaveLength(CONFIRMATIONS);
    expect(new Set(payments.map((payment) => payment.instance)).size).toBe(2);
    const overlap = maxOverlap(
      payments.map((p) => ({ start: Number(p.started_at_ms), end: Number(p.finished_at_ms) })),
    );
    expect(overlap).toBeGreaterThan(0);
    expect(overlap).toBeLessThanOrEqual(PAYMENT_PERMITS);
    const [seats] = await schema.query<{ booked_seats: number; held_seats: number }>(
      `SELECT booked_seats, held_seats FROM slots WHERE id = $1`,
      [FIFTY_SEATS],
    );
    expect(seats).toEqual({ booked_seats: CONFIRMATIONS, held_seats: 0 });
  });
});
