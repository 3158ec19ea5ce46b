import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { RedisTransportClient } from '@app/redis/transport';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  type BookingCancelledEvent,
  type BookingCreatedEvent,
} from '../../booking-contracts/src/index.js';
import { BookingEventsService } from '../src/booking-events/booking-events.service.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootWorker, closeWorker, managementOf, TEST_NOTIFICATIONS_TOKEN } from './support/boot-worker.js';
import { untilPasses } from './support/until-passes.js';

function created(overrides: Partial<BookingCreatedEvent> = {}): BookingCreatedEvent {
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

describe('booking-worker booking events (Redis Streams)', () => {
  const keyPrefix = uniqueKeyPrefix('worker-events');
  /** Fails the first `recordCreated` after it applied its effects, as a crash before the acknowledgement would. */
  let failNextAfterApplying = false;
  let worker: INestApplication;
  let client: RedisTransportClient;

  const emit = async (name: string, payload: object) => {
    await lastValueFrom(client.emit(name, payload), { defaultValue: undefined });
  };
  const get = (path: string) =>
    path.startsWith('/metrics')
      ? request(managementOf(worker)).get(path)
      : request(worker.getHttpServer()).get(path).set('Authorization', `Bearer ${TEST_NOTIFICATIONS_TOKEN}`);

  beforeAll(async () => {
    worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    const service = worker.get(BookingEventsService);
    const recordCreated = service.recordCreated.bind(service);
    service.recordCreated = async (event) => {
      const applied = await recordCreated(event);
      if (failNextAfterApplying) {
        failNextAfterApplying = false;
        throw new Error('worker died before acknowledging');
      }
      return applied;
    };
    client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await closeWorker(worker, keyPrefix);
  });

  it('records a confirmation notification and counts the booking for its venue', async () => {
    const event = created({ seats: 3 });
    await emit(BOOKING_CREATED, event);
    const response = await untilPasses(async () => (await get(`/notifications/${event.bookingId}`).expect(200)).body);
    expect(response).toEqual({
      bookingId: event.bookingId,
      venueId: event.venueId,
      customerEmail: 'ada@example.com',
      seats: 3,
      kind: 'confirmation',
      recordedAt: expect.any(String),
    });
    const counters = await get(`/venues/${event.venueId}/counters`).expect(200);
    expect(counters.body).toEqual({ venueId: event.venueId, bookings: 1, cancellations: 0, seatsBooked: 3 });
  });

  it('records one notification when the same event is emitted twice', async () => {
    const before = (await get('/stats').expect(200)).body;
    const event = created();
    await emit(BOOKING_CREATED, event);
    await emit(BOOKING_CREATED, event);
    await untilPasses(async () => {
      const stats = (await get('/stats').expect(200)).body;
      expect(stats).toEqual({
        eventsHandled: before.eventsHandled + 1,
        duplicatesIgnored: before.duplicatesIgnored + 1,
        notifications: before.notifications + 1,
      });
    });
    const counters = await get(`/venues/${event.venueId}/counters`).expect(200);
    expect(counters.body).toEqual({ venueId: event.venueId, bookings: 1, cancellations: 0, seatsBooked: 2 });
  });

  it('records one notification when the transport redelivers an entry whose handler failed after applying it', async () => {
    const before = (await get('/stats').expect(200)).body;
    const event = created();
    failNextAfterApplying = true;
    await emit(BOOKING_CREATED, event);
    await untilPasses(async () => {
      const stats = (await get('/stats').expect(200)).body;
      expect(stats).toEqual({
        eventsHandled: before.eventsHandled + 1,
        duplicatesIgnored: before.duplicatesIgnored + 1,
        notifications: before.notifications + 1,
      });
    });
    expect(failNextAfterApplying).toBe(false);
    await get(`/notifications/${event.bookingId}`).expect(200);
  });

  it('counts a cancellation once and gives the seats back', async () => {
    const event = created({ seats: 4 });
    const cancelled: BookingCancelledEvent = {
      bookingId: event.bookingId,
      venueId: event.venueId,
      slotId: event.slotId,
      seats: 4,
      cancelledAt: new Date().toISOString(),
    };
    await emit(BOOKING_CREATED, event);
    await emit(BOOKING_CANCELLED, cancelled);
    await emit(BOOKING_CANCELLED, cancelled);
    await untilPasses(async () => {
      const counters = (await get(`/venues/${event.venueId}/counters`).expect(200)).body;
      expect(counters).toEqual({ venueId: event.venueId, bookings: 1, cancellations: 1, seatsBooked: 0 });
    });
  });

  it("serves /metrics with the library's transport metric families (Prometheus text) on the management port", async () => {
    const response = await get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^# TYPE nest_redis_transport_messages_handled_total counter$/m);
    expect(response.text).toMatch(/^# TYPE nest_redis_transport_consumer_lag gauge$/m);
  });

  it('answers 404 for a booking without a notification, and zeros for an unknown venue', async () => {
    const bookingId = randomUUID();
    const missing = await get(`/notifications/${bookingId}`).expect(404);
    expect(missing.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `No notification recorded for booking ${bookingId}.`,
    });
    const venueId = randomUUID();
    const counters = await get(`/venues/${venueId}/counters`).expect(200);
    expect(counters.body).toEqual({ venueId, bookings: 0, cancellations: 0, seatsBooked: 0 });
  });
});
