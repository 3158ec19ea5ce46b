import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { freePort } from '../../../test/harness/free-port.js';
import { uniqueKeyPrefix } from '../../../test/harness/key-prefix.js';
import { REDIS_URL } from '../../../test/harness/redis-url.js';
import { bootWorker, closeWorker } from './support/boot-worker.js';

describe('booking-worker GET /health', () => {
  describe('with Redis reachable', () => {
    const keyPrefix = uniqueKeyPrefix('worker-health');
    let worker: INestApplication;

    beforeAll(async () => {
      worker = await bootWorker({ url: REDIS_URL, keyPrefix }, { consume: true });
    });

    afterAll(async () => {
      await closeWorker(worker, keyPrefix);
    });

    it('answers /health/live from the process alone', async () => {
      const response = await request(worker.getHttpServer()).get('/health/live').expect(200);
      expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    });

    it.each(['/health', '/health/ready'])('answers 200 with redis up on %s', async (path) => {
      const response = await request(worker.getHttpServer()).get(path).expect(200);
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

    it('stays live while not ready', async () => {
      await request(worker.getHttpServer()).get('/health/live').expect(200);
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
