import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CacheService, RedisModule } from '@app/redis';
import { REDIS_URL, bootstrapTestingApp, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const prefix = uniqueKeyPrefix('cache-service');
useRedisClient({ deleteKeysUnder: prefix });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// get/set/del, the Redis expiry, single-flight wrap, eviction winning over a slow loader, tags and clear() are
// the cache contract (test/contracts/cache.contract.ts), run on a single node and on Redis Cluster.
describe('CacheService', () => {
  let app: INestApplicationContext;
  let cache: CacheService;

  beforeAll(async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, cache: { ttl: 5_000, staleTtl: 5_000 } }),
    ]);
    cache = app.get(CacheService);
  });

  beforeEach(async () => {
    await cache.clear();
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('get / set / del', () => {
    it('round-trips Date, BigInt, Map, Set, Buffer, typed arrays, nested objects, null and undefined members', async () => {
      const value = {
        at: new Date('2026-11-23T07:00:00.123Z'),
        big: 12345678901234567890n,
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, new Date(0)],
        ]),
        set: new Set(['x', 'y']),
        buffer: Buffer.from([0, 1, 2, 255]),
        floats: new Float64Array([1.5, -0, Number.NaN]),
        nested: { list: [1, 'two', null, { deep: [new Set([1n])] }], empty: {} },
        nothing: null,
        missing: undefined,
        special: [Number.POSITIVE_INFINITY, -0, Number.NaN],
        regex: /a+b/gi,
        '\u0000': 'user key that looks like a tag',
      };
      await cache.set('types', value);
      const back = (await cache.get<typeof value>('types'))!;
      expect(back).toStrictEqual(value);
      expect(back.at).toBeInstanceOf(Date);
      expect(back.map).toBeInstanceOf(Map);
      expect(back.set).toBeInstanceOf(Set);
      expect(Buffer.isBuffer(back.buffer)).toBe(true);
      expect(typeof back.big).toBe('bigint');
      expect(Object.is(back.special[1], -0)).toBe(true);
      expect('missing' in back).toBe(true);
    });
  });

  describe('wrap', () => {
    it('reports how a value was served: miss, then hit with its age', async () => {
      const miss = await cache.wrapWithStatus('status', () => 'v');
      expect(miss).toEqual({ value: 'v', status: 'miss', ageMs: 0 });
      await sleep(30);
      const hit = await cache.wrapWithStatus('status', () => 'other');
      expect(hit).toMatchObject({ value: 'v', status: 'hit', tier: 'redis' });
      expect(hit.ageMs).toBeGreaterThanOrEqual(25);
    });

    it('observe() collects the status of every cached call made inside it', async () => {
      await cache.set('seen', 1);
      const { value, served } = await cache.observe(async () => {
        const a = await cache.wrap('seen', () => 0, { name: 'observed' });
        const b = await cache.wrap('unseen', () => 2, { name: 'observed' });
        return a + b;
      });
      expect(value).toBe(3);
      expect(served.map((s) => [s.key, s.status])).toEqual([
        ['seen', 'hit'],
        ['unseen', 'miss'],
      ]);
    });

    it('observeCall() collects the calls started before the first await, nested observations apart', async () => {
      await cache.set('direct', 1);
      const { value, served } = await cache.observeCall(async () => {
        const [a, inner] = await Promise.all([
          cache.wrap('direct', () => 0, { name: 'observed' }),
          cache.observeCall(() => cache.wrap('inner', () => 5, { name: 'observed' })),
        ]);
        // After an await: not seen (observe() is the tool for that).
        const b = await cache.wrap('after-await', () => 2, { name: 'observed' });
        return a + inner.value + b;
      });
      expect(value).toBe(8);
      expect(served.map((s) => [s.key, s.status])).toEqual([['direct', 'hit']]);
      expect((await cache.observeCall(() => cache.wrap('inner', () => 0))).served).toMatchObject([
        { key: 'inner', status: 'hit', tier: 'redis' },
      ]);
    });

    it('observeCall() passes a synchronous throw on as a rejection and observes nothing afterwards', async () => {
      await expect(
        cache.observeCall(() => {
          throw new Error('before any call');
        }),
      ).rejects.toThrow('before any call');
      const { served } = await cache.observe(() => cache.wrap('after-throw', () => 1));
      expect(served).toHaveLength(1);
      expect((await cache.observeCall(() => 'no cache call')).served).toEqual([]);
    });

    it('counts hits, misses, loads per cache name', async () => {
      const name = 'counted';
      await cache.wrap('c1', () => 1, { name });
      await cache.wrap('c1', () => 1, { name });
      await cache.wrap('c2', () => 2, { name });
      expect(cache.stats()[name]).toEqual({ hits: 1, misses: 2, stale: 0, loads: 2, errors: 0 });
    });
  });

  describe('staleTtl', () => {
    it('serves the stale value at once and refreshes it in the background, once', async () => {
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(30);
        return loads;
      };
      expect(await cache.wrap('swr', loader, { ttl: 50, staleTtl: 5_000 })).toBe(1);
      await sleep(80);
      const stale = await Promise.all(
        Array.from({ length: 20 }, () => cache.wrapWithStatus('swr', loader, { ttl: 50, staleTtl: 5_000 })),
      );
      expect(stale.every((s) => s.status === 'stale' && s.value === 1)).toBe(true);
      expect(await eventually(async () => (await cache.get('swr')) === 2, 2_000)).toBe(true);
      expect(loads).toBe(2);
      expect((await cache.wrapWithStatus('swr', loader, { ttl: 50, staleTtl: 5_000 })).status).toBe('hit');
    });

    it('a failing background refresh keeps serving the stale value (grace)', async () => {
      await cache.wrap('grace', () => 'good', { ttl: 30, staleTtl: 5_000 });
      await sleep(50);
      const failing = () => Promise.reject(new Error('backend down'));
      expect(await cache.wrap('grace', failing, { ttl: 30, staleTtl: 5_000 })).toBe('good');
      await sleep(30);
      expect(await cache.wrap('grace', failing, { ttl: 30, staleTtl: 5_000 })).toBe('good');
    });

    it('without staleTtl an expired entry is a miss', async () => {
      await cache.wrap('no-stale', () => 1, { ttl: 30, staleTtl: 0 });
      await sleep(60);
      expect(await cache.wrapWithStatus('no-stale', () => 2, { ttl: 30, staleTtl: 0 })).toMatchObject({
        value: 2,
        status: 'miss',
      });
    });
  });
});

describe('CacheService with refreshInBackground: false (grace only)', () => {
  let app: INestApplicationContext;
  let cache: CacheService;
  const gracePrefix = `${prefix}grace:`;

  beforeAll(async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        url: REDIS_URL,
        keyPrefix: gracePrefix,
        cache: { ttl: 30, staleTtl: 5_000, refreshInBackground: false },
      }),
    ]);
    cache = app.get(CacheService);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('waits for the loader after ttl, and serves the stale value only when it throws', async () => {
    await cache.wrap('g', () => 'v1');
    await sleep(50);
    expect(await cache.wrap('g', () => 'v2')).toBe('v2');
    await sleep(50);
    const result = await cache.wrapWithStatus('g', () => Promise.reject(new Error('down')));
    expect(result).toMatchObject({ value: 'v2', status: 'stale' });
  });
});
