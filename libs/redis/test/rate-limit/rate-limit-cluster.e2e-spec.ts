import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { RedisModule, getRedisConnectionToken } from '@app/redis';
import { RateLimitModule, RateLimiter, RedisThrottlerStorage } from '@app/redis/rate-limit';
import { RedisClusterProcesses, bootstrapTestingApp, uniqueKeyPrefix } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('rate-limit-cluster');

describe('Rate limiting on a Redis Cluster (3 throwaway masters)', () => {
  let cluster: RedisClusterProcesses;
  const apps: INestApplicationContext[] = [];

  async function boot() {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ cluster: { nodes: cluster.addresses }, keyPrefix }),
      RateLimitModule.forRoot({
        // These tests count exact decisions, not latency: on a loaded CI machine 2,400 scripts on a just-started
        // Cluster took longer than 2 s once, every hit failed open (totalHits 0) and the count was wrong.
        commandTimeout: 15_000,
        limits: {
          fixed: { algorithm: 'fixed-window', limit: 50, window: 60_000 },
          sliding: { algorithm: 'sliding-window', limit: 50, window: 60_000 },
          bucket: { algorithm: 'token-bucket', burst: 50, rate: 1, period: 60_000 },
        },
      }),
    ]);
    apps.push(app);
    return {
      storage: app.get(RedisThrottlerStorage),
      limiter: app.get(RateLimiter),
      client: app.get<Cluster>(getRedisConnectionToken()),
    };
  }

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await cluster?.stop();
  });

  it('throttler counters on 60 keys spread over every master, each exact under 2 replicas × 40 concurrent hits', async () => {
    const [a, b] = [await boot(), await boot()];
    const keys = Array.from({ length: 60 }, (_, i) => `client-${i}`);
    const hits = keys.flatMap((key) =>
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).storage.increment(key, 60_000, 25, 60_000, 'default')),
    );
    const records = await Promise.all(hits);
    // A hit that failed open answers totalHits 0: none may have, or the counts below say nothing.
    expect(records.filter((r) => r.totalHits === 0)).toHaveLength(0);
    for (let k = 0; k < keys.length; k++) {
      const perKey = records.slice(k * 40, (k + 1) * 40);
      expect(perKey.filter((r) => !r.isBlocked)).toHaveLength(25);
    }
    const perMaster = await Promise.all(a.client.nodes('master').map((node) => node.dbsize()));
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((count) => count > 0)).toBe(true);
  }, 60_000);

  it.each(['fixed', 'sliding', 'bucket'])(
    '%s limit: exactly its capacity allowed for 120 concurrent calls per key from 2 replicas, keys on several masters',
    async (limit) => {
      const [a, b] = [await boot(), await boot()];
      const keys = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
      const results = await Promise.all(
        keys.flatMap((key) => Array.from({ length: 120 }, (_, i) => (i % 2 ? a : b).limiter.consume(limit, key))),
      );
      for (let k = 0; k < keys.length; k++) {
        const perKey = results.slice(k * 120, (k + 1) * 120);
        expect(perKey.filter((r) => r.allowed)).toHaveLength(50);
        expect(perKey.every((r) => !r.degraded)).toBe(true);
      }
      const mastersHolding = await Promise.all(
        a.client
          .nodes('master')
          .map(
            async (node) => (await node.scan('0', 'MATCH', `${keyPrefix}rate-limit:{${limit}:*`, 'COUNT', 1_000))[1],
          ),
      );
      expect(mastersHolding.flat()).toHaveLength(keys.length);
      expect(mastersHolding.filter((found) => found.length > 0).length).toBeGreaterThanOrEqual(2);
    },
    60_000,
  );
});
