import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RedisModuleOptions } from '@app/redis';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { freePort, uniqueKeyPrefix, RedisServerProcess, REDIS_URL } from '@test/harness';
import { bootApi as bootAppModule, closeApi, managementOf } from './support/boot-api.js';
import { TestSchema } from './support/test-database.js';

const schema = new TestSchema('api_health');

/** The API on the test PostgreSQL schema of this file, with `redis` as its Redis options. */
function bootApi(redis: RedisModuleOptions): Promise<INestApplication> {
  return bootAppModule({ redis, schema });
}

afterAll(async () => {
  await schema.drop();
});

/** Polls `GET /health` until it answers `status` (a reconnect takes ioredis a few retries). */
async function healthEventually(app: INestApplication, status: number, timeoutMs = 10_000): Promise<request.Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(managementOf(app)).get('/health');
    if (response.status === status || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const REDIS_UP = {
  status: 'up',
  latencyMs: expect.any(Number),
  role: 'master',
  usedMemory: expect.any(Number),
  maxMemory: expect.any(Number),
};
const LOCK_UP = { status: 'up', mode: 'single', connection: 'default', latencyMs: expect.any(Number) };
const DATABASE_UP = { status: 'up', engine: 'postgres', latencyMs: expect.any(Number) };
const TRANSPORT_UP = { status: 'up', mode: 'streams', connection: 'connected' };
const ALL_UP = { redis: REDIS_UP, lock: LOCK_UP, database: DATABASE_UP, transport: TRANSPORT_UP };
const UP = { status: 'ok', info: ALL_UP, error: {}, details: ALL_UP };
const NOT_READY = /^Redis connection "default" is not ready \((connecting|connect|reconnecting|close)\)$/;
const LOCK_NOT_READY = /^not ready \((connecting|connect|reconnecting|close)\)$/;

/**
 * The terminus body of a failed check: `redis` and `lock` (single node: the same main connection) down with these
 * messages, the database up, and the transport client as given.
 */
function redisDown(message: unknown, lockMessage: unknown, transport: Record<string, unknown> = TRANSPORT_UP) {
  const redis = { status: 'down', message };
  const lock = { status: 'down', mode: 'single', connection: 'default', message: lockMessage };
  const transportUp = transport.status === 'up';
  return {
    status: 'error',
    info: { database: DATABASE_UP, ...(transportUp && { transport }) },
    error: { redis, lock, ...(!transportUp && { transport }) },
    details: { redis, lock, database: DATABASE_UP, transport },
  };
}

describe('booking-api GET /health', () => {
  describe('with Redis reachable', () => {
    const keyPrefix = uniqueKeyPrefix('api-health');
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootApi({ url: REDIS_URL, keyPrefix });
    });

    afterAll(async () => {
      await closeApi(app, keyPrefix);
    });

    it('answers 200 with redis up on /health and /health/ready (details on the management port)', async () => {
      for (const path of ['/health', '/health/ready']) {
        const response = await request(managementOf(app)).get(path).expect(200);
        expect(response.body).toEqual(UP);
      }
    });

    it('answers /health/live from the process alone', async () => {
      const response = await request(managementOf(app)).get('/health/live').expect(200);
      expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    });
  });

  describe('when nothing listens on the Redis port (startDegraded)', () => {
    const password = 's3cret-health-pw';
    let port: number;
    let app: INestApplication;

    beforeAll(async () => {
      port = await freePort();
      app = await bootApi({
        url: `redis://:${password}@127.0.0.1:${port}`,
        keyPrefix: uniqueKeyPrefix('api-health-down'),
        startDegraded: true,
        connectTimeout: 200,
      });
    });

    afterAll(async () => {
      await app?.close();
    });

    it('stays live while not ready', async () => {
      await request(managementOf(app)).get('/health/live').expect(200);
    });

    it('answers 503 with redis, the lock connection and the transport client down', async () => {
      const response = await request(managementOf(app)).get('/health').expect(503);
      expect(response.body).toEqual(
        redisDown(expect.stringMatching(NOT_READY), expect.stringMatching(LOCK_NOT_READY), {
          status: 'down',
          mode: 'streams',
          message: expect.stringMatching(/^the transport client could not connect: /),
        }),
      );
    });

    it('never puts the Redis address or password in the body', async () => {
      const response = await request(managementOf(app)).get('/health').expect(503);
      expect(response.text).not.toContain(password);
      expect(response.text).not.toContain(String(port));
      expect(response.text).not.toContain('127.0.0.1');
    });
  });

  describe('when a running (password-protected) Redis stops answering', () => {
    const password = 's3cret-health-fail-pw';
    let redis: RedisServerProcess;
    let app: INestApplication;

    beforeAll(async () => {
      redis = await RedisServerProcess.start({ args: ['--requirepass', password] });
      app = await bootApi({
        url: `redis://:${password}@127.0.0.1:${redis.port}`,
        keyPrefix: uniqueKeyPrefix('api-health-fail'),
      });
    });

    afterAll(async () => {
      await app?.close();
      await redis?.stop();
    });

    it('reports a PING timeout while Redis is paused, and up again once it resumes', async () => {
      await request(managementOf(app)).get('/health').expect(200);
      redis.pause();
      try {
        const response = await request(managementOf(app)).get('/health').expect(503);
        // The transport client's socket stays open while Redis is paused: it still reports connected.
        expect(response.body).toEqual(redisDown('Redis did not answer within 1000 ms', 'no answer within 1000 ms'));
        expect(response.text).not.toContain(password);
      } finally {
        redis.resume();
      }
      const recovered = await request(managementOf(app)).get('/health').expect(200);
      expect(recovered.body).toEqual(UP);
    });

    it('reports down naming redis while Redis is killed, and up again by itself within seconds of its restart', async () => {
      await redis.kill();
      const down = await healthEventually(app, 503);
      expect(down.body).toEqual(
        redisDown(expect.stringMatching(NOT_READY), expect.stringMatching(LOCK_NOT_READY), {
          status: 'down',
          mode: 'streams',
          message: 'the transport is reconnecting',
        }),
      );
      expect(down.text).not.toContain(password);
      await redis.restart();
      const restarted = Date.now();
      const up = await healthEventually(app, 200);
      expect(up.body).toEqual(UP);
      expect(Date.now() - restarted).toBeLessThan(5_000);
    });
  });
});
