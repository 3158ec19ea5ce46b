import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { BOOKING_CANCELLED, BOOKING_CREATED } from '../../booking-contracts/src/index.js';
import { BOOKING_WORKER_GROUP } from '../src/worker.factory.js';
import { freePort, uniqueKeyPrefix, RedisServerProcess, REDIS_URL, useRedisClient } from '@test/harness';
import { bootWorker, closeWorker, managementOf } from './support/boot-worker.js';
import { untilPasses } from './support/until-passes.js';

const REDIS_UP = {
  status: 'up',
  latencyMs: expect.any(Number),
  role: 'master',
  usedMemory: expect.any(Number),
  maxMemory: expect.any(Number),
};
const NOT_READY = /^Redis connection "default" is not ready \((connecting|connect|reconnecting|close)\)$/;

/** The transport up, with both booking-event streams of `keyPrefix` idle or with `deadLetters` on booking.created. */
function transportUp(keyPrefix: string, deadLetters = 0) {
  const stream = (pattern: string, dead = 0) => ({
    stream: `${keyPrefix}stream:{${pattern}}`,
    group: BOOKING_WORKER_GROUP,
    deadLetterStream: `${keyPrefix}stream:{${pattern}}:dead`,
    pending: 0,
    deadLetters: dead,
    recentDeadLetters: 0,
    lag: 0,
  });
  return {
    status: 'up',
    mode: 'streams',
    connection: 'connected',
    streams: {
      [BOOKING_CREATED]: stream(BOOKING_CREATED, deadLetters),
      [BOOKING_CANCELLED]: stream(BOOKING_CANCELLED),
    },
  };
}

/** Polls `GET /health` on the management port until it answers `status`. */
async function healthEventually(app: INestApplication, status: number, timeoutMs = 10_000): Promise<request.Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(managementOf(app)).get('/health');
    if (response.status === status || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('booking-worker GET /health', () => {
  describe('with Redis reachable', () => {
    const keyPrefix = uniqueKeyPrefix('worker-health');
    let worker: INestApplication;
    const redis = useRedisClient();

    beforeAll(async () => {
      worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    });

    afterAll(async () => {
      await closeWorker(worker, keyPrefix);
    });

    it('answers /health/live from the process alone', async () => {
      const response = await request(managementOf(worker)).get('/health/live').expect(200);
      expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    });

    it.each(['/health', '/health/ready'])(
      'answers 200 on %s with redis up and the transport connected, its streams idle (management port)',
      async (path) => {
        const response = await request(managementOf(worker)).get(path).expect(200);
        const details = { redis: REDIS_UP, transport: transportUp(keyPrefix) };
        expect(response.body).toEqual({ status: 'ok', info: details, error: {}, details });
      },
    );

    it('reports the consumer lag of both streams on /metrics, as the health check reads it', async () => {
      const response = await request(managementOf(worker)).get('/metrics').expect(200);
      for (const pattern of [BOOKING_CREATED, BOOKING_CANCELLED]) {
        expect(response.text).toContain(
          `nest_redis_transport_consumer_lag{stream="${pattern}",group="${BOOKING_WORKER_GROUP}"} 0`,
        );
      }
    });

    it('stays ready through a flood of 120 junk entries: degraded on the management port, 200 on the public one', async () => {
      const streamKey = `${keyPrefix}stream:{${BOOKING_CREATED}}`;
      const deadKey = `${streamKey}:dead`;
      // The first probe is the baseline of the dead-letter rate.
      await request(managementOf(worker)).get('/health/ready').expect(200);
      const pipeline = redis.pipeline();
      for (let i = 0; i < 120; i++) pipeline.xadd(streamKey, '*', 'junk', `entry ${i}`);
      await pipeline.exec();
      try {
        const flooded = await untilPasses(async () => {
          const response = await request(managementOf(worker)).get('/health/ready').expect(200);
          expect(response.body.details.transport.streams[BOOKING_CREATED].deadLetters).toBe(120);
          return response;
        });
        const transport = {
          ...transportUp(keyPrefix),
          status: 'degraded',
          message:
            `120 entries of "${BOOKING_CREATED}" (group ${BOOKING_WORKER_GROUP}) dead-lettered in the last 300 s, ` +
            'over warnRecentDeadLetters 10',
        };
        transport.streams[BOOKING_CREATED] = {
          ...transport.streams[BOOKING_CREATED],
          deadLetters: 120,
          recentDeadLetters: 120,
        };
        expect(flooded.body).toEqual({
          status: 'degraded',
          info: { redis: REDIS_UP, transport },
          error: {},
          details: { redis: REDIS_UP, transport },
        });
        const publicReady = await request(worker.getHttpServer()).get('/health/ready').expect(200);
        expect(publicReady.body).toEqual({ status: 'degraded' });
      } finally {
        await redis.del(deadKey);
      }
    });

    it('answers the public /health with the status alone and 404 on /metrics', async () => {
      for (const path of ['/health', '/health/ready', '/health/live']) {
        expect((await request(worker.getHttpServer()).get(path).expect(200)).body).toEqual({ status: 'ok' });
      }
      const metrics = await request(worker.getHttpServer()).get('/metrics').expect(404);
      expect(metrics.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /metrics' });
    });
  });

  describe('when its (password-protected) Redis is stopped and restarted', () => {
    const password = 's3cret-worker-restart-pw';
    const keyPrefix = uniqueKeyPrefix('worker-health-restart');
    let node: RedisServerProcess;
    let worker: INestApplication;

    beforeAll(async () => {
      node = await RedisServerProcess.start({ args: ['--requirepass', password] });
      worker = await bootWorker({ url: `redis://:${password}@127.0.0.1:${node.port}`, keyPrefix }, { consume: true });
    });

    afterAll(async () => {
      await worker?.close();
      await node?.stop();
    });

    it('answers 503 naming redis and the transport, then 200 by itself within seconds of the restart', async () => {
      await request(managementOf(worker)).get('/health').expect(200);
      await node.stop({ keepDir: true });
      const down = await healthEventually(worker, 503);
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        status: 'error',
        info: {},
        error: {
          redis: { status: 'down', message: expect.stringMatching(NOT_READY) },
          transport: { status: 'down', mode: 'streams', message: 'the transport is reconnecting' },
        },
        details: expect.any(Object),
      });
      expect(down.text).not.toContain(password);
      await node.restart();
      const restarted = Date.now();
      const up = await healthEventually(worker, 200);
      expect(up.status).toBe(200);
      expect(up.body.details.transport).toEqual(transportUp(keyPrefix));
      expect(Date.now() - restarted).toBeLessThan(5_000);
      expect(up.text).not.toContain(password);
    }, 20_000);
  });

  describe('when nothing listens on the Redis port (startDegraded)', () => {
    const password = 's3cret-worker-pw';
    let port: number;
    let worker: INestApplication;

    beforeAll(async () => {
      port = await freePort();
      worker = await bootWorker({
        url: `redis://:${password}@127.0.0.1:${port}`,
        keyPrefix: uniqueKeyPrefix('worker-health-down'),
        startDegraded: true,
        connectTimeout: 200,
      });
    });

    afterAll(async () => {
      await worker?.close();
    });

    it('stays live while not ready', async () => {
      await request(managementOf(worker)).get('/health/live').expect(200);
    });

    it('answers 503 with redis down and the transport not listening, naming neither address nor password', async () => {
      const response = await request(managementOf(worker)).get('/health').expect(503);
      const redis = { status: 'down', message: expect.stringMatching(NOT_READY) };
      const transport = { status: 'down', mode: 'streams', message: 'the transport server is not listening' };
      expect(response.body).toEqual({
        status: 'error',
        info: {},
        error: { redis, transport },
        details: { redis, transport },
      });
      expect(response.text).not.toContain(password);
      expect(response.text).not.toContain(String(port));
    });
  });
});
