import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { RedisTransportClient } from '@app/redis/transport';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import { BOOKING_CREATED, type BookingCreatedEvent } from '../../booking-contracts/src/index.js';
import { WORKER_CONFIG } from '../src/config/worker-config.constants.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootWorker, closeWorker, managementOf, TEST_NOTIFICATIONS_TOKEN } from './support/boot-worker.js';
import { untilPasses } from './support/until-passes.js';

const UNAUTHORIZED = { statusCode: 401, error: 'Unauthorized', message: 'A valid bearer token is required.' };

describe('booking-worker GET /notifications/:bookingId (customer e-mail addresses) takes a bearer token', () => {
  const keyPrefix = uniqueKeyPrefix('worker-notifications-auth');
  let worker: INestApplication;
  /** A worker started without NOTIFICATIONS_TOKEN. */
  let tokenless: INestApplication;
  let client: RedisTransportClient;
  const event: BookingCreatedEvent = {
    bookingId: randomUUID(),
    venueId: randomUUID(),
    slotId: randomUUID(),
    customerEmail: 'grace@example.com',
    seats: 1,
    fencingToken: 3,
    createdAt: new Date().toISOString(),
  };
  const notification = (app: INestApplication, authorization?: string) => {
    const req = request(app.getHttpServer()).get(`/notifications/${event.bookingId}`);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  beforeAll(async () => {
    worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    tokenless = await bootWorker(
      { url: REDIS_URL, keyPrefix },
      {
        overrides: [
          { provide: WORKER_CONFIG, useValue: { port: 0, managementPort: 0, redis: { url: REDIS_URL, keyPrefix } } },
        ],
      },
    );
    client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    await client.connect();
    await lastValueFrom(client.emit(BOOKING_CREATED, event), { defaultValue: undefined });
    await untilPasses(() => notification(worker, `Bearer ${TEST_NOTIFICATIONS_TOKEN}`).expect(200));
  });

  afterAll(async () => {
    await client?.close();
    await tokenless?.close();
    await closeWorker(worker, keyPrefix);
  });

  it('answers 200 with the notification to the configured token', async () => {
    const response = await notification(worker, `Bearer ${TEST_NOTIFICATIONS_TOKEN}`).expect(200);
    expect(response.body).toEqual({
      bookingId: event.bookingId,
      venueId: event.venueId,
      customerEmail: 'grace@example.com',
      seats: 1,
      kind: 'confirmation',
      recordedAt: expect.any(String),
    });
  });

  it.each<[string, string | undefined]>([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${'x'.repeat(TEST_NOTIFICATIONS_TOKEN.length)}`],
    ['a prefix of the token', `Bearer ${TEST_NOTIFICATIONS_TOKEN.slice(0, -1)}`],
    ['the token with a character more', `Bearer ${TEST_NOTIFICATIONS_TOKEN}x`],
    ['the token as Basic credentials', `Basic ${TEST_NOTIFICATIONS_TOKEN}`],
    ['the bare token', TEST_NOTIFICATIONS_TOKEN],
  ])('answers 401 with WWW-Authenticate to %s, showing no e-mail', async (_, authorization) => {
    const response = await notification(worker, authorization).expect(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.body).toEqual(UNAUTHORIZED);
  });

  it('requires the token on the management port too', async () => {
    const response = await request(managementOf(worker)).get(`/notifications/${event.bookingId}`).expect(401);
    expect(response.body).toEqual(UNAUTHORIZED);
  });

  it('refuses everyone when the worker has no NOTIFICATIONS_TOKEN (fails closed)', async () => {
    for (const authorization of [undefined, 'Bearer ', `Bearer ${TEST_NOTIFICATIONS_TOKEN}`]) {
      expect((await notification(tokenless, authorization).expect(401)).body).toEqual(UNAUTHORIZED);
    }
  });

  it('leaves the counters and totals open (no personal data)', async () => {
    await request(worker.getHttpServer()).get(`/venues/${event.venueId}/counters`).expect(200);
    await request(worker.getHttpServer()).get('/stats').expect(200);
  });
});
