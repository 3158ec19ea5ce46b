import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { RedisKeyspace, RedisKeyvStore, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  eventually,
  redisCluster,
  singleNode,
  uniqueKeyPrefix,
} from '@test/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many of `keys` exist (one EXISTS each: on a Cluster a multi-key EXISTS may not cross slots). */
async function existing(observer: RunningTopology['observer'], keys: string[]): Promise<number> {
  let found = 0;
  for (const key of keys) found += await observer.exists(key);
  return found;
}

/**
 * cache-manager 7 over two stores, the layout `@nestjs/cache-manager` users run (memory in front, Redis behind):
 * `createCache({ stores: [memoryKeyv, redisKeyv] })` with `RedisKeyvStore` as the Redis tier.
 */
function multiStore(topology: RedisTopology): void {
  describe(`cache-manager 7 over [memory, RedisKeyvStore] on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('cm-stores');
    let running: RunningTopology;
    let app: INestApplicationContext;
    let memory: Keyv;
    let redis: Keyv;
    let cache: Cache;
    const redisKey = (key: string) => `${prefix}cache:kv:app:app:${key}`;

    beforeAll(async () => {
      running = await topology.start();
      app = await bootstrapTestingApp([RedisModule.forRoot({ ...running.connection, keyPrefix: prefix })]);
    }, 60_000);

    beforeEach(async () => {
      const store = new RedisKeyvStore(app.get<RedisClient>(getRedisConnectionToken()), app.get(RedisKeyspace));
      memory = new Keyv();
      redis = new Keyv({ store, namespace: 'app' });
      cache = createCache({ stores: [memory, redis], ttl: 60_000 });
      await cache.clear();
    });

    afterAll(async () => {
      await app?.close();
      await running?.stop();
    });

    it('mset writes every store; mget reads memory first and fills the gaps from Redis', async () => {
      await cache.mset<unknown>([
        { key: 'a', value: 1 },
        { key: 'b', value: { two: 2 } },
        { key: 'c', value: 'three', ttl: 5_000 },
      ]);
      expect(await existing(running.observer, [redisKey('a'), redisKey('b'), redisKey('c')])).toBe(3);
      const cTtl = await running.observer.pttl(redisKey('c'));
      expect(cTtl).toBeGreaterThan(0);
      expect(cTtl).toBeLessThanOrEqual(5_000);
      await memory.delete('b');
      expect(await cache.mget(['a', 'b', 'c', 'missing'])).toEqual([1, { two: 2 }, 'three', undefined]);
      await memory.clear();
      expect(await cache.mget(['a', 'b', 'c'])).toEqual([1, { two: 2 }, 'three']);
    });

    it('mdel removes the keys from every store, and only them', async () => {
      await cache.mset(['a', 'b', 'c'].map((key) => ({ key, value: key })));
      expect(await cache.mdel(['a', 'b'])).toBe(true);
      expect(await memory.get('a')).toBeUndefined();
      expect(await redis.get('b')).toBeUndefined();
      expect(await existing(running.observer, [redisKey('a'), redisKey('b')])).toBe(0);
      expect(await cache.get('c')).toBe('c');
    });

    it('ttl() answers the expiry time from the first store holding the key, Redis included', async () => {
      const before = Date.now();
      await cache.set('t', 'v', 10_000);
      const fromMemory = await cache.ttl('t');
      await memory.clear();
      const fromRedis = await cache.ttl('t');
      for (const expires of [fromMemory, fromRedis]) {
        expect(expires).toBeGreaterThanOrEqual(before + 10_000);
        expect(expires).toBeLessThanOrEqual(Date.now() + 10_000);
      }
      expect(await running.observer.pttl(redisKey('t'))).toBeGreaterThan(0);
      expect(await cache.ttl('never-set')).toBeUndefined();
    });

    it('the Redis store is iterable next to the memory store (cache.stores[i].iterator())', async () => {
      await cache.mset(Array.from({ length: 30 }, (_x, i) => ({ key: `k${i}`, value: i })));
      const seen = new Map<string, unknown>();
      for await (const [key, value] of cache.stores[1]!.iterator!(undefined)) seen.set(key as string, value);
      expect(seen).toEqual(new Map(Array.from({ length: 30 }, (_x, i) => [`k${i}`, i])));
      let inMemory = 0;
      for await (const entry of cache.stores[0]!.iterator!(undefined)) if (entry) inMemory++;
      expect(inMemory).toBe(30);
    });

    it('wrap loads once on a miss and stores the result in every store', async () => {
      let loads = 0;
      const load = async () => ({ n: ++loads });
      const results = await Promise.all([cache.wrap('w', load), cache.wrap('w', load), cache.wrap('w', load)]);
      expect(results).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
      expect(loads).toBe(1);
      expect(await memory.get('w')).toEqual({ n: 1 });
      expect(await redis.get('w')).toEqual({ n: 1 });
    });

    it('wrap under refreshThreshold answers the cached value and refreshes it in the background, in Redis too', async () => {
      const refreshing = createCache({ stores: [memory, redis], ttl: 60_000, refreshAllStores: true });
      let loads = 0;
      const load = async () => `v${++loads}`;
      expect(await refreshing.wrap('r', load, 1_000, 500)).toBe('v1');
      // More than 500 ms left: served as is, no reload.
      expect(await refreshing.wrap('r', load, 1_000, 500)).toBe('v1');
      expect(loads).toBe(1);
      await sleep(600);
      // Less than 500 ms left: the old value now, a reload behind it.
      expect(await refreshing.wrap('r', load, 1_000, 500)).toBe('v1');
      expect(await eventually(async () => (await redis.get('r')) === 'v2')).toBe(true);
      expect(await memory.get('r')).toBe('v2');
      expect(loads).toBe(2);
      const pttl = await running.observer.pttl(redisKey('r'));
      expect(pttl).toBeGreaterThan(500);
    });

    it('wrap finding the value only in Redis serves it and copies it into memory', async () => {
      await redis.set('only-redis', 'from redis', 30_000);
      let loads = 0;
      expect(await cache.wrap('only-redis', async () => `loaded ${++loads}`)).toBe('from redis');
      expect(loads).toBe(0);
      expect(await memory.get('only-redis')).toBe('from redis');
    });

    it('clear() empties both stores and leaves other Keyv namespaces and foreign keys alone', async () => {
      const client = app.get<RedisClient>(getRedisConnectionToken());
      const otherNamespace = new Keyv({
        store: new RedisKeyvStore(client, app.get(RedisKeyspace)),
        namespace: 'other',
      });
      await otherNamespace.set('x', 'kept');
      await running.observer.set(`${prefix}foreign`, 'kept');
      await cache.mset([{ key: 'gone', value: 1 }]);
      await cache.clear();
      expect(await cache.get('gone')).toBeUndefined();
      expect(await running.observer.exists(redisKey('gone'))).toBe(0);
      expect(await otherNamespace.get('x')).toBe('kept');
      expect(await running.observer.get(`${prefix}foreign`)).toBe('kept');
    });
  });
}

multiStore(singleNode);
multiStore(redisCluster);
