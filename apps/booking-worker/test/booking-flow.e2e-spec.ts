import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DEMO_VENUE_ID, seedSlotId } from '../../booking-api/src/database/seed-demo-data.js';
import { bootApi, closeApi } from '../../booking-api/test/support/boot-api.js';
import { TestSchema } from '../../booking-api/test/support/test-database.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootWorker, closeWorker, TEST_NOTIFICATIONS_TOKEN } from './support/boot-worker.js';
import { untilPasses } from './support/until-passes.js';

const TODAY = new Date().toISOString().slice(0, 10);

describe('booking flow: booking-api emits, booking-worker records (real apps, Redis Streams)', () => {
  const keyPrefix = uniqueKeyPrefix('booking-flow');
  const schema = new TestSchema('booking_flow');
  let api: INestApplication;
  let worker: INestApplication;

  beforeAll(async () => {
    api = await bootApi({ redis: { url: REDIS_URL, keyPrefix }, schema, seedDemoData: true });
    worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
  });

  afterAll(async () => {
    await closeWorker(worker, keyPrefix);
    await closeApi(api, keyPrefix);
    await schema.drop();
  });

  it('records one confirmation per booking and keeps the venue counters in step with bookings and cancellations', async () => {
    const slotId = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
    const bookings = await Promise.all(
      [1, 2, 3].map(async (seats) => {
        const response = await request(api.getHttpServer())
          .post('/bookings')
          .set('Idempotency-Key', randomUUID())
          .send({ slotId, customerEmail: `guest${seats}@example.com`, seats })
          .expect(201);
        return response.body as { id: string; seats: number };
      }),
    );
    await request(api.getHttpServer()).delete(`/bookings/${bookings[0]!.id}`).expect(200);

    await untilPasses(async () => {
      const counters = await request(worker.getHttpServer()).get(`/venues/${DEMO_VENUE_ID}/counters`).expect(200);
      expect(counters.body).toEqual({ venueId: DEMO_VENUE_ID, bookings: 3, cancellations: 1, seatsBooked: 5 });
    });
    for (const booking of bookings) {
      const notification = await request(worker.getHttpServer())
        .get(`/notifications/${booking.id}`)
        .set('Authorization', `Bearer ${TEST_NOTIFICATIONS_TOKEN}`)
        .expect(200);
      expect(notification.body).toMatchObject({ bookingId: booking.id, seats: booking.seats, kind: 'confirmation' });
    }
    const stats = await request(worker.getHttpServer()).get('/stats').expect(200);
    expect(stats.body).toEqual({ eventsHandled: 4, duplicatesIgnored: 0, notifications: 3 });
  });
});
