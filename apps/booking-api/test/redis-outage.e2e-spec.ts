import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { DEMO_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { uniqueKeyPrefix, RedisServerProcess } from '@test/harness';
import { bootApi, managementOf } from './support/boot-api.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);

describe('booking-api while its Redis is down', () => {
  const schema = new TestSchema('api_outage');
  let redis: RedisServerProcess;
  let app: NestExpressApplication;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    app = await bootApi({
      redis: { url: redis.url, keyPrefix: uniqueKeyPrefix('api-outage'), cache: { commandTimeout: 100 } },
      schema,
      seedDemoData: true,
      bookingLockWaitMs: 500,
    });
    await request(app.getHttpServer()).get(`/venues/${DEMO_VENUE_ID}/availability`).query({ date: TODAY }).expect(200);
    await redis.kill();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await schema.drop();
  });

  it('still answers availability from the database (the cache fails open)', async () => {
    const response = await request(app.getHttpServer())
      .get(`/venues/${DEMO_VENUE_ID}/availability`)
      .query({ date: TODAY })
      .expect(200);
    expect(response.body.slots).toHaveLength(3);
    expect(response.headers['cache-status']).toBe('booking-api; fwd=bypass');
  });

  it('refuses bookings with 503 and writes nothing (the lock fails closed)', async () => {
    const slotId = seedSlotId(DEMO_VENUE_ID, TODAY, 9);
    const response = await request(app.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .send({ slotId, customerEmail: 'ada@example.com', seats: 1 })
      .expect(503);
    expect(response.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Bookings are unavailable: the lock service is unreachable.',
    });
    const [slot] = await schema.query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [
      slotId,
    ]);
    expect(slot!.booked_seats).toBe(0);
  });

  it('reports not ready on /health/ready while staying live', async () => {
    await request(app.getHttpServer()).get('/health/live').expect(200);
    const response = await request(managementOf(app)).get('/health/ready').expect(503);
    expect(response.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
    // The public port, where kubelet probes, says no more than the status.
    const publicReady = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(publicReady.body).toEqual({ status: 'error' });
  });
});
