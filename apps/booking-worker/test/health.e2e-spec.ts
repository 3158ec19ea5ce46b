import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getRedisConnectionToken, type RedisClient, type RedisModuleOptions } from '@app/redis';
import request from 'supertest';
import { WORKER_CONFIG } from '../src/config/worker-config.constants.js';
import type { WorkerConfig } from '../src/config/worker-config.interface.js';
import { configureWorker } from '../src/worker.factory.js';
import { WorkerModule } from '../src/worker.module.js';
import { freePort } from '../../../test/harness/free-port.js';
import { deleteKeysWithPrefix, uniqueKeyPrefix } from '../../../test/harness/key-prefix.js';
import { REDIS_URL } from '../../../test/harness/redis-url.js';

/** The real WorkerModule with only its configuration replaced, configured as `main.ts` configures it. */
async function bootWorker(redis: RedisModuleOptions): Promise<INestApplication> {
  const config: WorkerConfig = { port: 0, redis };
  const moduleRef = await Test.createTestingModule({ imports: [WorkerModule] })
    .overrideProvider(WORKER_CONFIG)
    .useValue(config)
    .compile();
  return configureWorker(moduleRef.createNestApplication({ logger: false })).init();
}

describe('booking-worker GET /health', () => {
  describe('with Redis reachable', () => {
    const keyPrefix = uniqueKeyPrefix('worker-health');
    let worker: INestApplication;

    beforeAll(async () => {
      worker = await bootWorker({ url: REDIS_URL, keyPrefix });
    });

    afterAll(async () => {
      if (!worker) return;
      await deleteKeysWithPrefix(worker.get<RedisClient>(getRedisConnectionToken()), keyPrefix);
      await worker.close();
    });

    it('answers 200 with redis up', async () => {
      const response = await request(worker.getHttpServer()).get('/health').expect(200);
      const redis = {
        status: 'up',
        latencyMs: expect.any(Number),
        role: 'master',
        usedMemory: expect.any(Number),
        maxMemory: expect.any(Number),
      };
      expect(response.body).toEqual({ status: 'ok', info: { redis }, error: {}, details: { redis } });
    });
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

    it('answers 503 with redis down, naming neither the address nor the password', async () => {
      const response = await request(worker.getHttpServer()).get('/health').expect(503);
      const redis = {
        status: 'down',
        message: expect.stringMatching(
          /^Redis connection "default" is not ready \((connecting|connect|reconnecting|close)\)$/,
        ),
      };
      expect(response.body).toEqual({ status: 'error', info: {}, error: { redis }, details: { redis } });
      expect(response.text).not.toContain(password);
      expect(response.text).not.toContain(String(port));
    });
  });
});
