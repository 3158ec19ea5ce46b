import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { CacheService } from '@app/redis';
import request from 'supertest';
import { AVAILABILITY_CACHE } from '../src/availability/availability.service.js';
import { DEMO_VENUE_ID, SECOND_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi, managementOf } from './support/boot-api.js';
import { TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);

function slot(venueId: string, hour: number, hours: number, capacity: number, bookedSeats = 0) {
  const startsAt = new Date(`${TODAY}T${String(hour).padStart(2, '0')}:00:00.000Z`);
  return {
    slotId: seedSlotId(venueId, TODAY, hour),
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + hours * 3_600_000).toISOString(),
    capacity,
    bookedSeats,
    availableSeats: capacity - bookedSeats,
  };
}

describe('booking-api GET /venues/:id/availability', () => {
  const keyPrefix = uniqueKeyPrefix('api-availability');
  const schema = new TestSchema('api_availability');
  /** Two replicas of the API on one database and one Redis namespace. */
  let replicaA: NestExpressApplication;
  let replicaB: NestExpressApplication;

  const availability = (app: NestExpressApplication, venueId: string, date = TODAY) =>
    request(app.getHttpServer()).get(`/venues/${venueId}/availability`).query({ date });
  const book = (app: NestExpressApplication, slotId: string, seats: number) =>
    request(app.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .send({ slotId, customerEmail: 'ada@example.com', seats })
      .expect(201);

  beforeAll(async () => {
    replicaA = await bootApi({ redis: { url: REDIS_URL, keyPrefix }, schema, seedDemoData: true });
    replicaB = await bootApi({ redis: { url: REDIS_URL, keyPrefix }, schema, seedDemoData: true });
  });

  afterAll(async () => {
    await closeApi(replicaA, keyPrefix);
    await closeApi(replicaB, keyPrefix);
    await schema.drop();
  });

  it("answers 200 with the venue's slots of that day", async () => {
    const response = await availability(replicaA, SECOND_VENUE_ID).expect(200);
    expect(response.body).toEqual({
      venueId: SECOND_VENUE_ID,
      venueName: 'Harbour Studio',
      date: TODAY,
      slots: [slot(SECOND_VENUE_ID, 10, 1, 4), slot(SECOND_VENUE_ID, 15, 1, 4)],
    });
  });

  it('answers an empty day with no slots', async () => {
    const response = await availability(replicaA, SECOND_VENUE_ID, '2001-01-01').expect(200);
    expect(response.body).toEqual({
      venueId: SECOND_VENUE_ID,
      venueName: 'Harbour Studio',
      date: '2001-01-01',
      slots: [],
    });
  });

  it('serves the second read from the cache (Cache-Status), under the app key prefix', async () => {
    const first = await availability(replicaA, DEMO_VENUE_ID, '2030-01-01').expect(200);
    expect(first.headers['cache-status']).toBe('booking-api; fwd=miss');
    const second = await availability(replicaA, DEMO_VENUE_ID, '2030-01-01').expect(200);
    expect(second.headers['cache-status']).toBe('booking-api; hit');
    expect(second.body).toEqual(first.body);
    const counters = replicaA.get(CacheService).stats()[AVAILABILITY_CACHE];
    expect(counters).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number) });
    expect(counters!.hits).toBeGreaterThanOrEqual(1);
  });

  it('is fresh on every replica right after a booking and a cancellation on another one', async () => {
    const tenSeats = seedSlotId(DEMO_VENUE_ID, TODAY, 9);
    const seatsOf = (body: { slots: Array<{ slotId: string; bookedSeats: number }> }) =>
      body.slots.find((s) => s.slotId === tenSeats)!.bookedSeats;

    await availability(replicaA, DEMO_VENUE_ID).expect(200);
    const cached = await availability(replicaA, DEMO_VENUE_ID).expect(200);
    expect(cached.headers['cache-status']).toBe('booking-api; hit');
    const before = seatsOf(cached.body);

    const booking = await book(replicaB, tenSeats, 3);
    const afterBooking = await availability(replicaA, DEMO_VENUE_ID).expect(200);
    expect(afterBooking.headers['cache-status']).toBe('booking-api; fwd=miss');
    expect(seatsOf(afterBooking.body)).toBe(before + 3);

    await request(replicaA.getHttpServer()).delete(`/bookings/${booking.body.id}`).expect(200);
    const afterCancel = await availability(replicaB, DEMO_VENUE_ID).expect(200);
    expect(seatsOf(afterCancel.body)).toBe(before);
    expect((await availability(replicaA, DEMO_VENUE_ID).expect(200)).body).toEqual(afterCancel.body);
  });

  it('keeps other venues cached when one venue changes', async () => {
    await availability(replicaA, SECOND_VENUE_ID).expect(200);
    await book(replicaA, seedSlotId(DEMO_VENUE_ID, TODAY, 12), 1);
    const other = await availability(replicaA, SECOND_VENUE_ID).expect(200);
    expect(other.headers['cache-status']).toBe('booking-api; hit');
  });

  it("exports the availability cache's counters at /metrics (Prometheus text) on the management port", async () => {
    const response = await request(managementOf(replicaA)).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^nest_redis_cache_hits_total\{cache="availability"\} [1-9]\d*$/m);
    expect(response.text).toMatch(/^nest_redis_cache_misses_total\{cache="availability"\} [1-9]\d*$/m);
  });

  it('answers 404 for an unknown venue', async () => {
    const venueId = randomUUID();
    const response = await availability(replicaA, venueId).expect(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: `Venue ${venueId} does not exist.` });
  });

  it.each([
    ['missing', undefined, ['date is required, formatted YYYY-MM-DD']],
    ['not a date', 'tomorrow', ['date must be a calendar date, formatted YYYY-MM-DD']],
    ['an impossible day', '2026-02-30', ['date must be a calendar date, formatted YYYY-MM-DD']],
    ['a timestamp', '2026-11-23T10:00:00Z', ['date must be a calendar date, formatted YYYY-MM-DD']],
    ['given twice', ['2026-11-23', '2026-11-24'], ['date must be a calendar date, formatted YYYY-MM-DD']],
  ])('answers 400 when the date is %s', async (_, date, message) => {
    const url = `/venues/${DEMO_VENUE_ID}/availability`;
    const response = await request(replicaA.getHttpServer())
      .get(url)
      .query(date === undefined ? {} : { date })
      .expect(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
  });

  it('answers 400 for a malformed venue id', async () => {
    const response = await availability(replicaA, 'riverside').expect(400);
    expect(response.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Validation failed (uuid is expected)',
    });
  });

  it('publishes the OpenAPI document at /docs (UI) and /docs-json on the management port', async () => {
    await request(managementOf(replicaA)).get('/docs').expect(200).expect('Content-Type', /html/);
    const { body } = await request(managementOf(replicaA)).get('/docs-json').expect(200);
    expect(Object.keys(body.paths).sort()).toEqual([
      '/bookings',
      '/bookings/{id}',
      '/holds',
      '/holds/{id}',
      '/venues/{id}/availability',
    ]);
    expect(Object.keys(body.paths['/bookings/{id}']).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(body.paths['/holds/{id}']).sort()).toEqual(['delete', 'get']);
    // Two bodies: { holdId } alone, or { slotId, customerEmail, seats }; no field is required by itself.
    expect(Object.keys(body.components.schemas.CreateBookingDto.properties).sort()).toEqual([
      'customerEmail',
      'holdId',
      'seats',
      'slotId',
    ]);
    expect(body.components.schemas.CreateHoldDto.required.sort()).toEqual(['customerEmail', 'seats', 'slotId']);
  });
});
