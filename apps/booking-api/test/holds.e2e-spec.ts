import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RedisKeyspace, getRedisConnectionToken, type RedisClient } from '@app/redis';
import request from 'supertest';
import { EXPIRING_HOLDS_KEY } from '../../booking-contracts/src/index.js';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { DEMO_VENUE_ID, SECOND_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { REDIS_URL, uniqueKeyPrefix } from '@test/harness';
import { bootApi, closeApi } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded: 50 seats. */
const FIFTY_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
/** Seeded: 4 seats. */
const FOUR_SEATS = seedSlotId(SECOND_VENUE_ID, TODAY, 10);
/** Seeded: 4 seats, for the expiry test. */
const EXPIRY_SLOT = seedSlotId(SECOND_VENUE_ID, TODAY, 15);
/** Short, so the expiry test waits little; long enough for a loaded machine to confirm in time. */
const HOLD_TTL_MS = 4_000;

const ISO_DATE = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

describe('booking-api /holds and POST /bookings { holdId }', () => {
  const keyPrefix = uniqueKeyPrefix('api-holds');
  const schema = new TestSchema('api_holds');
  const events = new RecordingEventsPublisher();
  let app: NestExpressApplication;

  const hold = (body: object) => request(app.getHttpServer()).post('/holds').send(body);
  const confirm = (holdId: string, key: string = randomUUID()) =>
    request(app.getHttpServer()).post('/bookings').set('Idempotency-Key', key).send({ holdId });
  const seats = async (slotId: string) => {
    const [row] = await schema.query<{ booked_seats: number; held_seats: number }>(
      `SELECT booked_seats, held_seats FROM slots WHERE id = $1`,
      [slotId],
    );
    return { booked: row!.booked_seats, held: row!.held_seats };
  };
  const available = async (slotId: string) => {
    const response = await request(app.getHttpServer())
      .get(`/venues/${slotId === FIFTY_SEATS ? DEMO_VENUE_ID : SECOND_VENUE_ID}/availability?date=${TODAY}`)
      .expect(200);
    return (response.body as { slots: Array<{ slotId: string; availableSeats: number }> }).slots.find(
      (slot) => slot.slotId === slotId,
    )!.availableSeats;
  };

  beforeAll(async () => {
    app = await bootApi({
      redis: { url: REDIS_URL, keyPrefix },
      schema,
      seedDemoData: true,
      holdTtlMs: HOLD_TTL_MS,
      paymentDelayMs: 20,
      overrides: [{ provide: BookingEventsPublisher, useValue: events }],
    });
  });

  afterAll(async () => {
    await closeApi(app, keyPrefix);
    await schema.drop();
  });

  beforeEach(() => {
    events.events.length = 0;
  });

  it('POST /holds answers 201 with the hold, counts its seats as held and keeps it in Redis with its ttl', async () => {
    const response = await hold({ slotId: FIFTY_SEATS, customerEmail: 'ada@example.com', seats: 2 }).expect(201);
    expect(response.body).toEqual({
      id: UUID,
      slotId: FIFTY_SEATS,
      venueId: DEMO_VENUE_ID,
      customerEmail: 'ada@example.com',
      seats: 2,
      status: 'held',
      expiresAt: ISO_DATE,
      createdAt: ISO_DATE,
      endedAt: null,
      bookingId: null,
    });
    const body = response.body as { id: string; expiresAt: string; createdAt: string };
    const lifetime = Date.parse(body.expiresAt) - Date.parse(body.createdAt);
    expect(lifetime).toBe(HOLD_TTL_MS);
    expect(await seats(FIFTY_SEATS)).toEqual({ booked: 0, held: 2 });
    expect(await available(FIFTY_SEATS)).toBe(48);

    const redis = app.get<RedisClient>(getRedisConnectionToken());
    const key = app.get(RedisKeyspace).key('hold', body.id);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(HOLD_TTL_MS);
    await request(app.getHttpServer()).get(`/holds/${body.id.toUpperCase()}`).expect(200, response.body);
    // Announced to booking-worker's release job: in the sorted set, scored by its expiry.
    const expiring = app.get(RedisKeyspace).key(EXPIRING_HOLDS_KEY);
    expect(await redis.zscore(expiring, body.id)).toBe(String(Date.parse(body.expiresAt)));

    await request(app.getHttpServer()).delete(`/holds/${body.id}`).expect(200);
    expect(await redis.exists(key)).toBe(0);
    expect(await redis.zscore(expiring, body.id)).toBeNull();
  });

  it('POST /bookings { holdId } confirms the hold: 201, seats move from held to booked, booking.created', async () => {
    const before = await seats(FIFTY_SEATS);
    const placed = await hold({ slotId: FIFTY_SEATS, customerEmail: 'grace@example.com', seats: 3 }).expect(201);
    const holdId = (placed.body as { id: string }).id;
    const key = randomUUID();
    const booked = await confirm(holdId.toUpperCase(), key).expect(201);
    expect(booked.body).toEqual({
      id: UUID,
      slotId: FIFTY_SEATS,
      venueId: DEMO_VENUE_ID,
      customerEmail: 'grace@example.com',
      seats: 3,
      status: 'confirmed',
      fencingToken: expect.any(Number),
      createdAt: ISO_DATE,
      cancelledAt: null,
    });
    const bookingId = (booked.body as { id: string }).id;
    expect(await seats(FIFTY_SEATS)).toEqual({ booked: before.booked + 3, held: before.held });
    expect(events.events.map((event) => event.name)).toEqual(['booking.created']);

    const shown = await request(app.getHttpServer()).get(`/holds/${holdId}`).expect(200);
    expect(shown.body).toMatchObject({ id: holdId, status: 'confirmed', bookingId, endedAt: ISO_DATE });
    // The same key again: the same booking, no second seat; another key: the hold is already a booking.
    const replay = await confirm(holdId, key).expect(200);
    expect((replay.body as { id: string }).id).toBe(bookingId);
    const again = await confirm(holdId).expect(409);
    expect(again.body).toMatchObject({ code: 'HOLD_CONFIRMED', holdId });
    const [payments] = await schema.query<{ count: string }>(`SELECT count(*) FROM payments WHERE hold_id = $1`, [
      holdId,
    ]);
    expect(Number(payments!.count)).toBe(1);
    await request(app.getHttpServer()).delete(`/holds/${holdId}`).expect(409);
  });

  it('DELETE /holds/:id frees the seats; again returns the same hold; the hold can no longer be confirmed', async () => {
    const placed = await hold({ slotId: FOUR_SEATS, customerEmail: 'alan@example.com', seats: 4 }).expect(201);
    const holdId = (placed.body as { id: string }).id;
    // Every seat is held: a direct booking and another hold find none.
    const refused = await request(app.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .send({ slotId: FOUR_SEATS, customerEmail: 'eve@example.com', seats: 1 })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'SOLD_OUT', availableSeats: 0 });
    await hold({ slotId: FOUR_SEATS, customerEmail: 'eve@example.com', seats: 1 }).expect(409);

    const cancelled = await request(app.getHttpServer()).delete(`/holds/${holdId}`).expect(200);
    expect(cancelled.body).toMatchObject({ id: holdId, status: 'cancelled', endedAt: ISO_DATE });
    await request(app.getHttpServer()).delete(`/holds/${holdId}`).expect(200, cancelled.body);
    expect(await seats(FOUR_SEATS)).toEqual({ booked: 0, held: 0 });
    expect(await available(FOUR_SEATS)).toBe(4);
    const gone = await confirm(holdId).expect(410);
    expect(gone.body).toEqual({
      statusCode: 410,
      error: 'Gone',
      code: 'HOLD_CANCELLED',
      message: `Hold ${holdId} is cancelled.`,
      holdId,
    });
  });

  it('an expired hold answers 410 to a confirmation, without a payment call, and shows as expired', async () => {
    const placed = await hold({ slotId: EXPIRY_SLOT, customerEmail: 'ken@example.com', seats: 1 }).expect(201);
    const holdId = (placed.body as { id: string }).id;
    await new Promise((resolve) => setTimeout(resolve, HOLD_TTL_MS + 200));
    const gone = await confirm(holdId).expect(410);
    expect(gone.body).toMatchObject({ code: 'HOLD_EXPIRED', holdId });
    const shown = await request(app.getHttpServer()).get(`/holds/${holdId}`).expect(200);
    expect(shown.body).toMatchObject({ status: 'expired', endedAt: null });
    const [payments] = await schema.query<{ count: string }>(`SELECT count(*) FROM payments WHERE hold_id = $1`, [
      holdId,
    ]);
    expect(Number(payments!.count)).toBe(0);
    // Its seat stays counted until booking-worker's job releases it (apps/booking-worker/test/holds-release).
    expect(await seats(EXPIRY_SLOT)).toEqual({ booked: 0, held: 1 });
  });

  it('20 concurrent holds of one seat on a 4-seat slot: exactly the free seats are held, the rest 409', async () => {
    const slot = seedSlotId(SECOND_VENUE_ID, TODAY, 10);
    const { booked, held } = await seats(slot);
    const free = 4 - booked - held;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hold({ slotId: slot, customerEmail: `c${i}@example.com`, seats: 1 })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array<number>(free).fill(201), ...Array<number>(20 - free).fill(409)]);
    expect(await seats(slot)).toEqual({ booked, held: held + free });
  });

  describe('validation', () => {
    it.each([
      [{}, ['slotId must be a UUID', 'customerEmail must be an email', 'seats must be an integer number']],
      [
        { slotId: 'not-a-uuid', customerEmail: 'ada@example.com', seats: 0 },
        ['slotId must be a UUID', 'seats must not be less than 1'],
      ],
      [
        { slotId: FIFTY_SEATS, customerEmail: 'ada@example.com', seats: 1, extra: 1 },
        ['property extra should not exist'],
      ],
    ])('POST /holds %j → 400 naming the fields', async (body, messages) => {
      const response = await hold(body).expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.arrayContaining(messages) as unknown,
      });
    });

    it('POST /bookings { holdId } with other fields → 400; a malformed holdId → 400', async () => {
      const combined = await request(app.getHttpServer())
        .post('/bookings')
        .set('Idempotency-Key', randomUUID())
        .send({ holdId: randomUUID(), seats: 1 })
        .expect(400);
      expect(combined.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: ['holdId must be sent alone: the hold already names the slot, the customer and the seats'],
      });
      const malformed = await confirm('hold-1').expect(400);
      expect(malformed.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['holdId must be a UUID'] });
    });

    it('unknown holds answer 404; a malformed id in the path answers 400', async () => {
      const unknown = randomUUID();
      await confirm(unknown).expect(404);
      await request(app.getHttpServer()).get(`/holds/${unknown}`).expect(404);
      await request(app.getHttpServer()).delete(`/holds/${unknown}`).expect(404);
      await request(app.getHttpServer()).get('/holds/42').expect(400);
    });
  });
});
