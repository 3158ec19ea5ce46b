import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { MAX_VALIDATION_MESSAGES } from '../src/bounded-validation.js';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi, managementOf } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TestSchema } from './support/test-database.js';

describe('booking-api: what the public port shows, and what only the management port does', () => {
  const keyPrefix = uniqueKeyPrefix('api-exposure');
  const schema = new TestSchema('api_exposure');
  let app: NestExpressApplication;

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

  it.each(['/metrics', '/docs', '/docs-json', '/docs/swagger-ui.css', '/metrics?name=x'])(
    'answers 404 to GET %s on the public port, as to any unknown path',
    async (path) => {
      const response = await request(app.getHttpServer()).get(path).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: `Cannot GET ${path.split('?')[0]}`,
      });
    },
  );

  it('serves /metrics and /docs-json on the management port', async () => {
    const metrics = await request(managementOf(app)).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^# HELP nest_redis_/m);
    const docs = await request(managementOf(app)).get('/docs-json').expect(200);
    expect(docs.body.info).toEqual(expect.objectContaining({ title: 'booking-api', version: '1.0' }));
  });

  it.each(['/health', '/health/ready', '/health/live'])(
    'answers GET %s on the public port with the status alone (no Redis role, memory or engine)',
    async (path) => {
      const response = await request(app.getHttpServer()).get(path).expect(200);
      expect(response.body).toEqual({ status: 'ok' });
    },
  );

  it('answers the health details on the management port', async () => {
    const response = await request(managementOf(app)).get('/health/ready').expect(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.details.redis).toEqual(
      expect.objectContaining({ status: 'up', role: 'master', usedMemory: expect.any(Number) }),
    );
  });

  it('keeps the API itself on the public port', async () => {
    await request(app.getHttpServer()).get(`/bookings/${randomUUID()}`).expect(404);
  });

  it('bounds the 400 for a 15 kB body of unknown properties: ten reasons and a count, no input echoed', async () => {
    const junk: Record<string, string> = { slotId: 'not-a-uuid', customerEmail: 'x', seats: 'many' as never };
    for (let i = 0; Buffer.byteLength(JSON.stringify(junk)) < 15_000; i++) junk[`p${i}_${'x'.repeat(200)}`] = 'v';
    const body = JSON.stringify(junk);
    const response = await request(app.getHttpServer())
      .post('/bookings')
      .set('Idempotency-Key', randomUUID())
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(400);
    // One reason per unknown property, then slotId (1), customerEmail (1) and seats (integer, min, max: 3).
    const unknown = Object.keys(junk).length - 3;
    expect(response.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: [
        `property p0_${'x'.repeat(108)}…`,
        `property p1_${'x'.repeat(108)}…`,
        `property p2_${'x'.repeat(108)}…`,
        `property p3_${'x'.repeat(108)}…`,
        `property p4_${'x'.repeat(108)}…`,
        `property p5_${'x'.repeat(108)}…`,
        `property p6_${'x'.repeat(108)}…`,
        `property p7_${'x'.repeat(108)}…`,
        `property p8_${'x'.repeat(108)}…`,
        `property p9_${'x'.repeat(108)}…`,
        `… and ${unknown + 5 - MAX_VALIDATION_MESSAGES} more`,
      ],
    });
    expect(Buffer.byteLength(response.text)).toBeLessThan(2_000);
    expect(response.text).not.toContain('not-a-uuid');
  });
});
