import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { DEMO_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { uniqueKeyPrefix, RedisServerProcess } from '@test/harness';
import { bootApi } from './support/boot-api.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** The configured lock wait (`BOOKING_LOCK_WAIT_MS`), the demo's default. */
const LOCK_WAIT_MS = 10_000;
/**
 * Correctness bound, not a benchmark: the 503 must come from the lock's own deadline (plus one attempt's minimum
 * and a loaded machine's scheduling), never from ioredis' reconnection schedule, which once made it 45.9 s.
 */
const MARGIN_MS = 3_000;

describe('POST /bookings while Redis is down answers 503 within the lock wait', () => {
  let redis: RedisServerProcess | undefined;
  let app: NestExpressApplication | undefined;
  let schema: TestSchema | undefined;

  afterEach(async () => {
    redis?.resume();
    await app?.close();
    await redis?.stop();
    await schema?.drop();
    [redis, app, schema] = [undefined, undefined, undefined];
  });

  /** Stops Redis, then waits 3 s: see the cases below. */
  const stopThreeSecondsBefore = async (server: RedisServerProcess) => {
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  };

  it.each([
    // 3 s into the outage: ioredis fails the commands queued offline after 20 reconnection attempts (about 10.5 s
    // in), so the lock's first attempt fails early, inside the wait, and the lock then subscribes for wake-ups.
    // Without a cached read before, the lock opens the subscriber connection itself, and its SUBSCRIBE waited for
    // that new connection's own first flush (~10.5 s later): 18 s in all, every time.
    ['stopped 3 s before, no cached read before (the lock opens the subscriber)', false, stopThreeSecondsBefore],
    // With a cached read before, the cache's bus already opened the subscriber, which reconnects on the same
    // schedule as the main connection; when its flush came first, the SUBSCRIBE waited for its next one, ~43 s into
    // the outage (the 45.9 s of the report; which flush comes first varies from run to run).
    ['stopped 3 s before, after a cached read (the subscriber already open)', true, stopThreeSecondsBefore],
    ['paused with SIGSTOP (sockets open, no answer)', true, async (server: RedisServerProcess) => server.pause()],
  ])(
    'Redis %s: 503 within the wait + 3 s, nothing written',
    async (_, cachedReadFirst, takeDown) => {
      schema = new TestSchema('api_outage_wait');
      redis = await RedisServerProcess.start();
      app = await bootApi({
        redis: { url: redis.url, keyPrefix: uniqueKeyPrefix('api-outage-wait') },
        schema,
        seedDemoData: true,
        bookingLockWaitMs: LOCK_WAIT_MS,
      });
      // No booking before the outage: the lock never subscribed for wake-ups yet.
      if (cachedReadFirst) {
        await request(app.getHttpServer())
          .get(`/venues/${DEMO_VENUE_ID}/availability`)
          .query({ date: TODAY })
          .expect(200);
      }
      await takeDown(redis);

      const slotId = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
      const started = Date.now();
      const response = await request(app.getHttpServer())
        .post('/bookings')
        .set('Idempotency-Key', randomUUID())
        .send({ slotId, customerEmail: 'ada@example.com', seats: 1 });
      const elapsed = Date.now() - started;

      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Bookings are unavailable: the lock service is unreachable.',
      });
      expect(elapsed).toBeLessThan(LOCK_WAIT_MS + MARGIN_MS);
      const [slot] = await schema.query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [
        slotId,
      ]);
      expect(slot!.booked_seats).toBe(0);
    },
    90_000,
  );
});
