import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Redis } from 'ioredis';
import { REDIS_URL, deleteKeysWithPrefix, uniqueKeyPrefix } from '@test/harness';
import { type RateLimitWorker, startWorker } from './fixtures/spawn-worker.js';

const keyPrefix = uniqueKeyPrefix('throttler-http');

/** Waits for the replica to print its port after "ready". */
async function portOf(worker: RateLimitWorker): Promise<number> {
  for (;;) {
    const port = /^ready\n(\d+)\n/.exec(worker.stdout())?.[1];
    if (port) return Number(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ThrottlerModule with RedisThrottlerStorage: two API replicas (processes) sharing Redis', () => {
  let replicas: RateLimitWorker[];
  let urls: string[];
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    replicas = await Promise.all([0, 1].map(() => startWorker('throttled-api.ts', [REDIS_URL, keyPrefix])));
    urls = (await Promise.all(replicas.map(portOf))).map((port) => `http://127.0.0.1:${port}`);
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas ?? []) {
      replica.child.kill('SIGTERM');
      await replica.output.catch(() => undefined);
    }
    await deleteKeysWithPrefix(redis, keyPrefix);
    await redis.quit();
  });

  it('counts one client across both replicas: 5 requests pass (alternating), the next ones get 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await request(urls[i % 2])
        .get('/holds')
        .expect(200);
      expect(response.body).toEqual({ holds: [] });
      expect(response.headers['x-ratelimit-limit']).toBe('5');
      expect(response.headers['x-ratelimit-remaining']).toBe(String(4 - i));
    }
    const refused = await request(urls[1]).get('/holds').expect(429);
    expect(refused.body).toEqual({ statusCode: 429, message: 'ThrottlerException: Too Many Requests' });
    expect(refused.headers['retry-after']).toBe('10');
    await request(urls[0]).get('/holds').expect(429);
  });

  it('30 concurrent requests split over both replicas: exactly 5 succeed', async () => {
    // Same client IP as above, whose counter is still blocked: start from a clean namespace.
    await deleteKeysWithPrefix(redis, `${keyPrefix}throttler:`);
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => request(urls[i % 2]).get('/holds')));
    const counts: Record<number, number> = {};
    for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
    expect(counts).toEqual({ 200: 5, 429: 25 });
  });
});
