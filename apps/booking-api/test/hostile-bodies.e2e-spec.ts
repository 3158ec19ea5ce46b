import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TestSchema } from './support/test-database.js';

describe('booking-api hostile request bodies', () => {
  const keyPrefix = uniqueKeyPrefix('api-hostile');
  const schema = new TestSchema('api_hostile');
  let app: NestExpressApplication;

  const postRaw = (body: string) =>
    request(app.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .set('Content-Type', 'application/json')
      .send(body);

  beforeAll(async () => {
    app = await bootApi({
      redis: { url: REDIS_URL, keyPrefix },
      schema,
      seedDemoData: true,
      overrides: [{ provide: BookingEventsPublisher, useValue: new RecordingEventsPublisher() }],
    });
  });

  afterAll(async () => {
    await closeApi(app, keyPrefix);
    await schema.drop();
  });

  it('answers 413 to a JSON body over 16 kB, before validation', async () => {
    const body = JSON.stringify({ slotId: 'x', customerEmail: 'a@example.com', seats: 1, pad: 'a'.repeat(20_000) });
    const response = await postRaw(body).expect(413);
    expect(response.body).toEqual({ statusCode: 413, message: 'request entity too large' });
  });

  it.each([
    ['truncated JSON', '{"slotId": "x", "seats": '],
    ['a bare string', '"hello"'],
    ['a prototype-pollution attempt', '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'],
    ['deeply nested arrays', '['.repeat(5_000) + ']'.repeat(5_000)],
    ['deeply nested objects', '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000)],
  ])('answers 400 to %s', async (_, body) => {
    const response = await postRaw(body).expect(400);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 400 }));
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
