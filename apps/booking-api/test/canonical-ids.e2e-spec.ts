import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getRedisConnectionToken, LockService, type RedisClient } from '@app/redis';
import request from 'supertest';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { slotLockResource } from '../src/bookings/slot-lock.js';
import { DEMO_VENUE_ID, SECOND_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded slots: 50 seats (fencing test), 200 seats (cache tests), 4 seats (lock test). */
const FENCED_SLOT = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
const CACHED_SLOT = seedSlotId(DEMO_VENUE_ID, TODAY, 18);
const LOCKED_SLOT = seedSlotId(SECOND_VENUE_ID, TODAY, 15);

describe('booking-api puts ids in canonical (lower-case) form before they become Redis keys', () => {
  const keyPrefix = uniqueKeyPrefix('api-canonical-ids');
  const schema = new TestSchema('api_canonical_ids');
  let app: NestExpressApplication;
  /** A second replica that waits only 300 ms for a slot's lock. */
  let impatient: NestExpressApplication;
  let redis: RedisClient;

  const book = (target: NestExpressApplication, slotId: string) =>
    request(target.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .send({ slotId, customerEmail: 'ada@example.com', seats: 1 });
  const availability = (venueId: string) =>
    request(app.getHttpServer()).get(`/venues/${venueId}/availability`).query({ date: TODAY }).expect(200);
  const fenceKey = (slotId: string) => `${keyPrefix}lock:{${slotLockResource(slotId)}}:fence`;
  const bookedOn = (body: { slots: Array<{ slotId: string; bookedSeats: number }> }, slotId: string) =>
    body.slots.find((slot) => slot.slotId === slotId)?.bookedSeats;

  beforeAll(async () => {
    const options = { redis: { url: REDIS_URL, keyPrefix }, schema, seedDemoData: true };
    const overrides = [{ provide: BookingEventsPublisher, useValue: new RecordingEventsPublisher() }];
    app = await bootApi({ ...options, overrides });
    impatient = await bootApi({ ...options, overrides, bookingLockWaitMs: 300 });
    redis = app.get<RedisClient>(getRedisConnectionToken());
  });

  afterAll(async () => {
    await impatient?.close();
    await closeApi(app, keyPrefix);
    await schema.drop();
  });

  it('an upper-case slot id waits for the lock held under its lower-case form (one lock)', async () => {
    const lock = await app.get(LockService).acquire(slotLockResource(LOCKED_SLOT));
    try {
      const response = await book(impatient, LOCKED_SLOT.toUpperCase()).expect(423);
      expect(response.body).toEqual({
        statusCode: 423,
        error: 'Locked',
        code: 'SLOT_LOCKED',
        message: expect.stringMatching(
          new RegExp(`^Slot ${LOCKED_SLOT} stayed locked for \\d+ ms; retry after 1 s\\.$`),
        ),
      });
    } finally {
      await lock.release();
    }
    await book(impatient, LOCKED_SLOT.toUpperCase()).expect(201);
  });

  it('upper- and lower-case bookings of one slot draw from one fencing counter (no 409 STALE_FENCING_TOKEN)', async () => {
    const tokens: number[] = [];
    for (const slotId of [FENCED_SLOT.toUpperCase(), FENCED_SLOT, FENCED_SLOT.toUpperCase(), FENCED_SLOT]) {
      const response = await book(app, slotId).expect(201);
      expect(response.body.slotId).toBe(FENCED_SLOT);
      tokens.push(response.body.fencingToken);
    }
    expect(tokens).toEqual([tokens[0], tokens[0]! + 1, tokens[0]! + 2, tokens[0]! + 3]);
    expect(await redis.get(fenceKey(FENCED_SLOT))).toBe(String(tokens[3]));
    expect(await redis.exists(fenceKey(FENCED_SLOT.toUpperCase()))).toBe(0);
  });

  it('an upper-case venue id reads the cache entry of its lower-case form (one entry)', async () => {
    const upper = await request(app.getHttpServer())
      .get(`/venues/${SECOND_VENUE_ID.toUpperCase()}/availability`)
      .query({ date: '2031-05-05' })
      .expect(200);
    expect(upper.headers['cache-status']).toBe('booking-api; fwd=miss');
    expect(upper.body).toEqual({
      venueId: SECOND_VENUE_ID,
      venueName: 'Harbour Studio',
      date: '2031-05-05',
      slots: [],
    });
    const lower = await request(app.getHttpServer())
      .get(`/venues/${SECOND_VENUE_ID}/availability`)
      .query({ date: '2031-05-05' })
      .expect(200);
    expect(lower.headers['cache-status']).toBe('booking-api; hit');
    expect(lower.body).toEqual(upper.body);
  });

  it('a booking on the upper-case slot id evicts the entry read under the lower-case venue id (no stale seats)', async () => {
    const before = await availability(DEMO_VENUE_ID);
    expect((await availability(DEMO_VENUE_ID)).headers['cache-status']).toBe('booking-api; hit');
    await book(app, CACHED_SLOT.toUpperCase()).expect(201);
    const after = await availability(DEMO_VENUE_ID);
    expect(after.headers['cache-status']).toBe('booking-api; fwd=miss');
    expect(bookedOn(after.body, CACHED_SLOT)).toBe(bookedOn(before.body, CACHED_SLOT)! + 1);
  });

  it('a booking evicts the entry read under the upper-case venue id too', async () => {
    const before = await availability(DEMO_VENUE_ID.toUpperCase());
    expect((await availability(DEMO_VENUE_ID.toUpperCase())).headers['cache-status']).toBe('booking-api; hit');
    await book(app, CACHED_SLOT).expect(201);
    const after = await availability(DEMO_VENUE_ID.toUpperCase());
    expect(after.headers['cache-status']).toBe('booking-api; fwd=miss');
    expect(after.body.venueId).toBe(DEMO_VENUE_ID);
    expect(bookedOn(after.body, CACHED_SLOT)).toBe(bookedOn(before.body, CACHED_SLOT)! + 1);
  });

  it('GET and DELETE /bookings/:id accept the id in upper case and answer it in lower case', async () => {
    const created = await book(app, CACHED_SLOT).expect(201);
    const id: string = created.body.id;
    const read = await request(app.getHttpServer()).get(`/bookings/${id.toUpperCase()}`).expect(200);
    expect(read.body).toEqual(created.body);
    const cancelled = await request(app.getHttpServer()).delete(`/bookings/${id.toUpperCase()}`).expect(200);
    expect(cancelled.body).toEqual({ ...created.body, status: 'cancelled', cancelledAt: expect.any(String) });
  });
});
