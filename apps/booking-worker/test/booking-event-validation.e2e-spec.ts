import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { getRedisConnectionToken, type RedisClient } from '@app/redis';
import { RedisTransportClient } from '@app/redis/transport';
import { lastValueFrom } from 'rxjs';
import { BOOKING_CANCELLED, BOOKING_CREATED, type BookingCreatedEvent } from '../../booking-contracts/src/index.js';
import { RECORD_ONCE_SCRIPT } from '../src/booking-events/booking-events.scripts.js';
import { BookingEventsService } from '../src/booking-events/booking-events.service.js';
import { BOOKING_WORKER_GROUP } from '../src/worker.factory.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootWorker, closeWorker } from './support/boot-worker.js';
import { untilPasses } from './support/until-passes.js';

function created(overrides: Partial<Record<keyof BookingCreatedEvent, unknown>> = {}): Record<string, unknown> {
  return {
    bookingId: randomUUID(),
    venueId: randomUUID(),
    slotId: randomUUID(),
    customerEmail: 'ada@example.com',
    seats: 2,
    fencingToken: 7,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('booking-worker checks each event against its contract before any write', () => {
  const keyPrefix = uniqueKeyPrefix('worker-validation');
  const keys = {
    notifications: `${keyPrefix}{booking-worker}:notifications`,
    cancellations: `${keyPrefix}{booking-worker}:cancellations`,
    totals: `${keyPrefix}{booking-worker}:totals`,
    venue: (id: string) => `${keyPrefix}{booking-worker}:venue:${id}`,
    dead: (pattern: string) => `${keyPrefix}stream:{${pattern}}:dead`,
  };
  let worker: INestApplication;
  let client: RedisTransportClient;
  let redis: RedisClient;

  const emit = (name: string, payload: object) =>
    lastValueFrom(client.emit(name, payload), { defaultValue: undefined });
  /** The dead letter of the entry whose payload holds `bookingId`, once the transport wrote it. */
  const deadLetterOf = (pattern: string, bookingId: string) =>
    untilPasses(async () => {
      const entries = await redis.xrange(keys.dead(pattern), '-', '+');
      const fields = entries
        .map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))))
        .find((entry: Record<string, string>) => entry.payload?.includes(bookingId));
      if (!fields) throw new Error(`no dead letter for ${bookingId} yet`);
      return fields as Record<string, string>;
    }, 20_000);
  const nothingWrittenFor = async (event: Record<string, unknown>) => {
    expect(await redis.hexists(keys.notifications, String(event.bookingId))).toBe(0);
    expect(await redis.hexists(keys.notifications, String(event.bookingId).toLowerCase())).toBe(0);
    expect(await redis.exists(keys.venue(String(event.venueId)))).toBe(0);
    expect(await redis.exists(keys.venue(String(event.venueId).toLowerCase()))).toBe(0);
  };

  beforeAll(async () => {
    worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    redis = worker.get<RedisClient>(getRedisConnectionToken());
    client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await closeWorker(worker, keyPrefix);
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['non-numeric', 'two'],
    ['fractional', 1.5],
  ])('a booking.created with %s seats is dead-lettered with the reason and writes nothing', async (_, seats) => {
    const event = created({ seats });
    if (seats === undefined) delete event.seats;
    const totalsBefore = await redis.hgetall(keys.totals);
    await emit(BOOKING_CREATED, event);

    const dead = await deadLetterOf(BOOKING_CREATED, String(event.bookingId));
    expect(dead).toMatchObject({
      pattern: BOOKING_CREATED,
      group: BOOKING_WORKER_GROUP,
      error: 'Invalid booking.created payload: seats must be an integer from 1 to 10000.',
    });
    await nothingWrittenFor(event);
    // Not counted as handled, nor as a duplicate on the retries: no once-marker was ever set.
    expect(await redis.hgetall(keys.totals)).toEqual(totalsBefore);
    expect(await redis.xpending(`${keyPrefix}stream:{${BOOKING_CREATED}}`, BOOKING_WORKER_GROUP)).toEqual([
      0,
      null,
      null,
      null,
    ]);
  });

  it('lists every bad field of a payload, without echoing its values', async () => {
    const event = { bookingId: randomUUID(), venueId: 'venue-1', customerEmail: 'not an address', seats: -1 };
    await emit(BOOKING_CREATED, event);
    const dead = await deadLetterOf(BOOKING_CREATED, event.bookingId);
    expect(dead.error).toBe(
      'Invalid booking.created payload: venueId must be a UUID; slotId must be a UUID; customerEmail must be an ' +
        'e-mail address of at most 254 characters; seats must be an integer from 1 to 10000; fencingToken must be ' +
        'an integer from 0 to 9007199254740991; createdAt must be an ISO 8601 timestamp.',
    );
    await nothingWrittenFor(event);
  });

  it('a booking.cancelled with seats as a string is dead-lettered and gives no seats back', async () => {
    const event = {
      bookingId: randomUUID(),
      venueId: randomUUID(),
      slotId: randomUUID(),
      seats: '3',
      cancelledAt: new Date().toISOString(),
    };
    await emit(BOOKING_CANCELLED, event);
    const dead = await deadLetterOf(BOOKING_CANCELLED, event.bookingId);
    expect(dead.error).toBe('Invalid booking.cancelled payload: seats must be an integer from 1 to 10000.');
    expect(await redis.hexists(keys.cancellations, event.bookingId)).toBe(0);
    expect(await redis.exists(keys.venue(event.venueId))).toBe(0);
  });

  it('records an event sent with upper-case ids under their canonical lower-case form', async () => {
    const event = created({ seats: 4 });
    const upper = {
      ...event,
      bookingId: String(event.bookingId).toUpperCase(),
      venueId: String(event.venueId).toUpperCase(),
    };
    await emit(BOOKING_CREATED, upper);
    const service = worker.get(BookingEventsService);
    const notification = await untilPasses(async () => {
      const found = await service.notificationFor(String(event.bookingId));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(notification).toEqual({
      bookingId: event.bookingId,
      venueId: event.venueId,
      customerEmail: 'ada@example.com',
      seats: 4,
      kind: 'confirmation',
      recordedAt: expect.any(String),
    });
    expect(await service.countersFor(String(event.venueId))).toEqual({
      venueId: event.venueId,
      bookings: 1,
      cancellations: 0,
      seatsBooked: 4,
    });
    expect(await redis.exists(keys.venue(upper.venueId))).toBe(0);
  });

  describe('the record-once script on its own checks first and writes after', () => {
    const run = (bookingId: string, venueId: string, counter: string, seats: string) =>
      redis.eval(
        RECORD_ONCE_SCRIPT,
        3,
        keys.notifications,
        keys.venue(venueId),
        keys.totals,
        bookingId,
        '{"kind":"confirmation"}',
        counter,
        seats,
      );

    it.each([
      ['a non-numeric seats delta', 'bookings', 'NaN-seats', 'ERR invalid seats delta: expected a non-zero integer'],
      ['an empty seats delta', 'bookings', '', 'ERR invalid seats delta: expected a non-zero integer'],
      ['a fractional seats delta', 'bookings', '1.5', 'ERR invalid seats delta: expected a non-zero integer'],
      ['an unknown counter', 'refunds', '1', 'ERR invalid counter: expected bookings or cancellations'],
    ])(
      'refuses %s and leaves no marker and no counter; a valid retry then applies',
      async (_, counter, seats, error) => {
        const [bookingId, venueId] = [randomUUID(), randomUUID()];
        const totalsBefore = await redis.hgetall(keys.totals);
        await expect(run(bookingId, venueId, counter, seats)).rejects.toThrow(error);
        expect(await redis.hexists(keys.notifications, bookingId)).toBe(0);
        expect(await redis.exists(keys.venue(venueId))).toBe(0);
        expect(await redis.hgetall(keys.totals)).toEqual(totalsBefore);
        // The retry is applied, not counted as a duplicate of a half-written first run.
        expect(await run(bookingId, venueId, 'bookings', '2')).toBe(1);
        expect(await redis.hgetall(keys.venue(venueId))).toEqual({ bookings: '1', seatsBooked: '2' });
      },
    );
  });
});
