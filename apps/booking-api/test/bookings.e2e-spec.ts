import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LockService } from '@app/redis';
import request from 'supertest';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { BookingsRepository } from '../src/bookings/bookings.repository.js';
import { StaleFencingTokenError } from '../src/bookings/errors/stale-fencing-token.error.js';
import { slotLockResource } from '../src/bookings/slot-lock.js';
import { DEMO_VENUE_ID, SECOND_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded: 10 seats. */
const TEN_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 9);
/** Seeded: 50 seats. */
const FIFTY_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
/** Seeded: 4 seats. */
const FOUR_SEATS = seedSlotId(SECOND_VENUE_ID, TODAY, 10);
/** Seeded: 4 seats, used by the lock tests only. */
const LOCKED_SLOT = seedSlotId(SECOND_VENUE_ID, TODAY, 15);
/** Long enough for 30 requests queued on one slot on a loaded machine: they must get 201 or 409, never 423. */
const LOCK_WAIT_MS = 15_000;
/** The replica the lock-contention test uses, so that test need not wait 15 s. */
const SHORT_LOCK_WAIT_MS = 300;

const ISO_DATE = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

describe('booking-api /bookings', () => {
  const keyPrefix = uniqueKeyPrefix('api-bookings');
  const schema = new TestSchema('api_bookings');
  const events = new RecordingEventsPublisher();
  let app: NestExpressApplication;

  /** `key: null` sends no Idempotency-Key header. */
  const post = (body: object, key: string | null = randomUUID()) => {
    const req = request(app.getHttpServer()).post('/bookings');
    return key === null ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };
  const bookedSeats = async (slotId: string) =>
    (await schema.query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [slotId]))[0]!
      .booked_seats;

  beforeAll(async () => {
    app = await bootApi({
      redis: { url: REDIS_URL, keyPrefix },
      schema,
      seedDemoData: true,
      bookingLockWaitMs: LOCK_WAIT_MS,
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

  describe('POST /bookings', () => {
    it('answers 201 with the booking, takes the seats and emits booking.created', async () => {
      const before = await bookedSeats(FIFTY_SEATS);
      const response = await post({ slotId: FIFTY_SEATS, customerEmail: 'ada@example.com', seats: 2 }).expect(201);
      expect(response.body).toEqual({
        id: UUID,
        slotId: FIFTY_SEATS,
        venueId: DEMO_VENUE_ID,
        customerEmail: 'ada@example.com',
        seats: 2,
        status: 'confirmed',
        fencingToken: expect.any(Number),
        createdAt: ISO_DATE,
        cancelledAt: null,
      });
      expect(await bookedSeats(FIFTY_SEATS)).toBe(before + 2);
      expect(events.events).toEqual([
        {
          name: 'booking.created',
          payload: {
            bookingId: response.body.id,
            venueId: DEMO_VENUE_ID,
            slotId: FIFTY_SEATS,
            customerEmail: 'ada@example.com',
            seats: 2,
            fencingToken: response.body.fencingToken,
            createdAt: response.body.createdAt,
          },
        },
      ]);
    });

    it('stores the fencing token of the slot lock, increasing with each booking', async () => {
      const first = await post({ slotId: FIFTY_SEATS, customerEmail: 'a@example.com', seats: 1 }).expect(201);
      const second = await post({ slotId: FIFTY_SEATS, customerEmail: 'b@example.com', seats: 1 }).expect(201);
      expect(second.body.fencingToken).toBeGreaterThan(first.body.fencingToken);
      const [slot] = await schema.query<{ last_fencing_token: string }>(
        `SELECT last_fencing_token FROM slots WHERE id = $1`,
        [FIFTY_SEATS],
      );
      expect(Number(slot!.last_fencing_token)).toBe(second.body.fencingToken);
    });

    it('returns the same booking for a repeated Idempotency-Key, without taking a second seat', async () => {
      const key = randomUUID();
      const body = { slotId: FIFTY_SEATS, customerEmail: 'retry@example.com', seats: 3 };
      const first = await post(body, key).expect(201);
      const seats = await bookedSeats(FIFTY_SEATS);
      const again = await post(body, key).expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await bookedSeats(FIFTY_SEATS)).toBe(seats);
      expect(events.events.map((e) => e.name)).toEqual(['booking.created']);
    });

    it('books once for 10 concurrent requests with the same Idempotency-Key', async () => {
      const key = randomUUID();
      const body = { slotId: FIFTY_SEATS, customerEmail: 'burst@example.com', seats: 1 };
      const seats = await bookedSeats(FIFTY_SEATS);
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(body, key)));
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect(await bookedSeats(FIFTY_SEATS)).toBe(seats + 1);
    });

    it('answers 422 when an Idempotency-Key is reused for a different request', async () => {
      const key = randomUUID();
      await post({ slotId: FIFTY_SEATS, customerEmail: 'one@example.com', seats: 1 }, key).expect(201);
      const response = await post({ slotId: FIFTY_SEATS, customerEmail: 'one@example.com', seats: 2 }, key).expect(422);
      expect(response.body).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'IDEMPOTENCY_KEY_REUSED',
        message: 'This Idempotency-Key was already used for a different booking request.',
      });
    });

    it('answers 409 when the slot has fewer seats left than requested', async () => {
      await post({ slotId: FOUR_SEATS, customerEmail: 'group@example.com', seats: 4 }).expect(201);
      const response = await post({ slotId: FOUR_SEATS, customerEmail: 'late@example.com', seats: 1 }).expect(409);
      expect(response.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'SOLD_OUT',
        message: `Slot ${FOUR_SEATS} has 0 seat(s) left; 1 requested.`,
        availableSeats: 0,
      });
      expect(await bookedSeats(FOUR_SEATS)).toBe(4);
    });

    it('confirms exactly 10 of 30 concurrent one-seat requests on a 10-seat slot; the others get 409', async () => {
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => post({ slotId: TEN_SEATS, customerEmail: `c${i}@example.com`, seats: 1 })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 409)).toHaveLength(20);
      expect(await bookedSeats(TEN_SEATS)).toBe(10);
      const [{ count }] = (await schema.query<{ count: string }>(
        `SELECT count(*) FROM bookings WHERE slot_id = $1 AND status = 'confirmed'`,
        [TEN_SEATS],
      )) as [{ count: string }];
      expect(Number(count)).toBe(10);
      expect(events.events).toHaveLength(10);
    });

    it('answers 404 for an unknown slot', async () => {
      const slotId = randomUUID();
      const response = await post({ slotId, customerEmail: 'x@example.com', seats: 1 }).expect(404);
      expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: `Slot ${slotId} does not exist.` });
    });

    it('answers 400 listing every invalid field', async () => {
      const response = await post({ slotId: 'slot-1', customerEmail: 'not-an-email', seats: 0, coupon: 'FREE' }).expect(
        400,
      );
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: [
          'property coupon should not exist',
          'slotId must be a UUID',
          'customerEmail must be an email',
          'seats must not be less than 1',
        ],
      });
    });

    it('answers 400 for a missing body, wrong types and too many seats', async () => {
      const empty = await post({}).expect(400);
      expect(empty.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: [
          'slotId must be a UUID',
          'customerEmail must be shorter than or equal to 254 characters',
          'customerEmail must be an email',
          'seats must not be greater than 10',
          'seats must not be less than 1',
          'seats must be an integer number',
        ],
      });
      const wrong = await post({ slotId: TEN_SEATS, customerEmail: 'a@example.com', seats: 11 }).expect(400);
      expect(wrong.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: ['seats must not be greater than 10'],
      });
    });

    it.each([
      ['missing', null],
      ['too short', 'abc'],
      ['with spaces', 'not a valid key'],
    ])('answers 400 when the Idempotency-Key header is %s', async (_, key) => {
      const response = await post({ slotId: TEN_SEATS, customerEmail: 'a@example.com', seats: 1 }, key).expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: ["Idempotency-Key header must be 8 to 128 characters of letters, digits, '.', '_', ':' or '-'"],
      });
    });

    it('answers 400 for malformed JSON and 413 for a body over 16 kB', async () => {
      const malformed = await request(app.getHttpServer())
        .post('/bookings')
        .set('Idempotency-Key', randomUUID())
        .set('Content-Type', 'application/json')
        .send('{"slotId": ');
      expect(malformed.status).toBe(400);
      const huge = await post({ slotId: TEN_SEATS, customerEmail: 'a@example.com', seats: 1, pad: 'x'.repeat(20_000) });
      expect(huge.status).toBe(413);
    });

    it('answers 423 when the slot stays locked past the wait, and books once the lock is free', async () => {
      const impatient = await bootApi({
        redis: { url: REDIS_URL, keyPrefix },
        schema,
        bookingLockWaitMs: SHORT_LOCK_WAIT_MS,
      });
      const book = () =>
        request(impatient.getHttpServer())
          .post('/bookings')
          .set('Idempotency-Key', randomUUID())
          .send({ slotId: LOCKED_SLOT, customerEmail: 'wait@example.com', seats: 1 });
      try {
        const lock = await app.get(LockService).acquire(slotLockResource(LOCKED_SLOT), { ttl: 10_000 });
        try {
          const response = await book().expect(423);
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
        await book().expect(201);
      } finally {
        await impatient.close();
      }
    });

    it('rejects a write whose fencing token is older than the slot has seen (a stale lock holder)', async () => {
      const slotId = seedSlotId(DEMO_VENUE_ID, TODAY, 18);
      await schema.query(`UPDATE slots SET last_fencing_token = 1000000000 WHERE id = $1`, [slotId]);
      const response = await post({ slotId, customerEmail: 'stale@example.com', seats: 1 }).expect(409);
      expect(response.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'STALE_FENCING_TOKEN',
        message: expect.stringMatching(
          new RegExp(`^Slot ${slotId} was written under a newer lock than token \\d+; the write was rejected\\. Retry`),
        ),
      });
      expect(await bookedSeats(slotId)).toBe(0);
      expect(events.events).toEqual([]);
    });
  });

  describe('fencing', () => {
    it('rejects the write of a holder whose lock expired after a newer holder wrote', async () => {
      const stale = await app.get(LockService).acquire(slotLockResource(FIFTY_SEATS), { ttl: 200, autoExtend: false });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const newer = await post({ slotId: FIFTY_SEATS, customerEmail: 'newer@example.com', seats: 1 }).expect(201);
      expect(newer.body.fencingToken).toBeGreaterThan(stale.fencingToken);

      const seats = await bookedSeats(FIFTY_SEATS);
      const write = app.get(BookingsRepository).create(
        {
          id: randomUUID(),
          slotId: FIFTY_SEATS,
          customerEmail: 'stale@example.com',
          seats: 1,
          idempotencyKey: randomUUID(),
          requestFingerprint: 'stale',
        },
        stale.fencingToken,
      );
      await expect(write).rejects.toBeInstanceOf(StaleFencingTokenError);
      expect(await bookedSeats(FIFTY_SEATS)).toBe(seats);
      expect(await stale.release()).toBe(false);
    });
  });

  describe('GET /bookings/:id', () => {
    it('answers 200 with the booking', async () => {
      const created = await post({ slotId: FIFTY_SEATS, customerEmail: 'get@example.com', seats: 1 }).expect(201);
      const response = await request(app.getHttpServer()).get(`/bookings/${created.body.id}`).expect(200);
      expect(response.body).toEqual(created.body);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const id = randomUUID();
      const missing = await request(app.getHttpServer()).get(`/bookings/${id}`).expect(404);
      expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: `Booking ${id} does not exist.` });
      const malformed = await request(app.getHttpServer()).get('/bookings/42').expect(400);
      expect(malformed.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Validation failed (uuid is expected)',
      });
    });
  });

  describe('DELETE /bookings/:id', () => {
    it('cancels, gives the seats back and emits booking.cancelled; cancelling again changes nothing', async () => {
      const created = await post({ slotId: FIFTY_SEATS, customerEmail: 'bye@example.com', seats: 2 }).expect(201);
      const seats = await bookedSeats(FIFTY_SEATS);
      const response = await request(app.getHttpServer()).delete(`/bookings/${created.body.id}`).expect(200);
      expect(response.body).toEqual({ ...created.body, status: 'cancelled', cancelledAt: ISO_DATE });
      expect(await bookedSeats(FIFTY_SEATS)).toBe(seats - 2);
      expect(events.events.at(-1)).toEqual({
        name: 'booking.cancelled',
        payload: {
          bookingId: created.body.id,
          venueId: DEMO_VENUE_ID,
          slotId: FIFTY_SEATS,
          seats: 2,
          cancelledAt: response.body.cancelledAt,
        },
      });

      const again = await request(app.getHttpServer()).delete(`/bookings/${created.body.id}`).expect(200);
      expect(again.body).toEqual(response.body);
      expect(await bookedSeats(FIFTY_SEATS)).toBe(seats - 2);
      expect(events.events.filter((e) => e.name === 'booking.cancelled')).toHaveLength(1);
    });

    it('answers 404 for an unknown booking', async () => {
      const id = randomUUID();
      const response = await request(app.getHttpServer()).delete(`/bookings/${id}`).expect(404);
      expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: `Booking ${id} does not exist.` });
    });
  });
});
