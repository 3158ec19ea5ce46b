import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { BOOKING_CANCELLED, BOOKING_CREATED } from '../../booking-contracts/src/index.js';
import { BOOKING_WORKER_GROUP } from '../src/worker.factory.js';
import { freePort } from '../../../test/harness/free-port.js';
import { uniqueKeyPrefix } from '../../../test/harness/key-prefix.js';
import { RedisServerProcess } from '../../../test/harness/redis-server-process.js';
import { REDIS_URL } from '../../../test/harness/redis-url.js';
import { bootWorker, closeWorker } from './support/boot-worker.js';

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

/** Polls `GET /health` until it answers `status`. */
async function healthEventually(app: INestApplication, status: number, timeoutMs = 10_000): Promise<request.Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(app.getHttpServer()).get('/health');
    if (response.status === status || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('booking-worker GET /health', () => {
  describe('with Redis reachable', () => {
    const keyPrefix = uniqueKeyPrefix('worker-health');
    let worker: INestApplication;
    let redis: Redis;

    beforeAll(async () => {
      redis = new Redis(REDIS_URL);
      worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    });

    afterAll(async () => {
      await closeWorker(worker, keyPrefix);
      redis?.disconnect();
    });

    it('answers /health/live from the process alone', async () => {
      const response = await request(worker.getHttpServer()).get('/health/live').expect(200);
      expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    });

    it.each(['/health', '/health/ready'])(
      'answers 200 on %s with redis up and the transport connected, its streams idle',
      async (path) => {
        const response = await request(worker.getHttpServer()).get(path).expect(200);
        const details = { redis: REDIS_UP, transport: transportUp(keyPrefix) };
        expect(response.body).toEqual({ status: 'ok', info: details, error: {}, details });
      },
    );

    it('reports the consumer lag of both streams on /metrics, as the health check reads it', async () => {
      const response = await request(worker.getHttpServer()).get('/metrics').expect(200);
      for (const pattern of [BOOKING_CREATED, BOOKING_CANCELLED]) {
        expect(response.text).toContain(
          `nest_redis_transport_consumer_lag{stream="${pattern}",group="${BOOKING_WORKER_GROUP}"} 0`,
        );
      }
    });

    it('answers 503 naming the transport once a dead-letter stream is over its limit (100)', async () => {
      const deadKey = `${keyPrefix}stream:{${BOOKING_CREATED}}:dead`;
      const pipeline = redis.pipeline();
      for (let i = 0; i < 101; i++) pipeline.xadd(deadKey, '*', 'pattern', BOOKING_CREATED, 'error', 'test');
      await pipeline.exec();
      try {
        const response = await request(worker.getHttpServer()).get('/health/ready').expect(503);
        const transport = {
          ...transportUp(keyPrefix, 101),
          status: 'down',
          message: `101 dead letters of "${BOOKING_CREATED}" (group ${BOOKING_WORKER_GROUP}) are over maxDeadLetters 100`,
        };
        expect(response.body).toEqual({
          status: 'error',
          info: { redis: REDIS_UP },
          error: { transport },
          details: { redis: REDIS_UP, transport },
        });
      } finally {
        await redis.del(deadKey);
      }
      await request(worker.getHttpServer()).get('/health/ready').expect(200);
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
      await request(worker.getHttpServer()).get('/health').expect(200);
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
      await request(worker.getHttpServer()).get('/health/live').expect(200);
    });

    it('answers 503 with redis down and the transport not listening, naming neither address nor password', async () => {
      const response = await request(worker.getHttpServer()).get('/health').expect(503);
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
