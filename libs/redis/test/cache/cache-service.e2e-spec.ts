import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CacheService, RedisModule } from '@app/redis';
import {
  REDIS_URL,
  bootstrapTestingApp,
  deleteKeysWithPrefix,
  eventually,
  uniqueKeyPrefix,
} from '../../../../test/harness/index.js';

const prefix = uniqueKeyPrefix('cache-service');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise resolved by hand, to hold a loader in flight while the test does something else. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CacheService', () => {
  let app: INestApplicationContext;
  let cache: CacheService;
  let observer: Redis;

  beforeAll(async () => {
    observer = new Redis(REDIS_URL);
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
    await deleteKeysWithPrefix(observer, prefix);
    await observer.quit();
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

    it('a cached null is a hit, a missing key is undefined', async () => {
      await cache.set('null', null);
      expect(await cache.get('null')).toBeNull();
      expect(await cache.getWithStatus('null')).toMatchObject({ value: null, status: 'hit', tier: 'redis' });
      expect(await cache.get('absent')).toBeUndefined();
      expect(await cache.getWithStatus('absent')).toBeUndefined();
    });

    it('set stores under <prefix>cache:{key} with ttl + staleTtl as the Redis expiry', async () => {
      await cache.set('k', 'v', { ttl: 1_000, staleTtl: 2_000 });
      const pttl = await observer.pttl(`${prefix}cache:{k}`);
      expect(pttl).toBeGreaterThan(2_500);
      expect(pttl).toBeLessThanOrEqual(3_000);
    });

    it('undefined is never stored', async () => {
      await cache.set('u', undefined);
      expect(await observer.exists(`${prefix}cache:{u}`)).toBe(0);
    });

    it('del removes one or several keys', async () => {
      await cache.set('a', 1);
      await cache.set('b', 2);
      await cache.del(['a', 'b']);
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.get('b')).toBeUndefined();
    });
  });

  describe('wrap', () => {
    it('calls the loader once for 1,000 concurrent calls on a cold key', async () => {
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(50);
        return { n: 42 };
      };
      const results = await Promise.all(Array.from({ length: 1_000 }, () => cache.wrap('cold', loader)));
      expect(loads).toBe(1);
      expect(results.every((r) => r.n === 42)).toBe(true);
      expect(await cache.get('cold')).toEqual({ n: 42 });
    });

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

    it('a loader error reaches the caller and nothing is stored', async () => {
      await expect(
        cache.wrap('boom', () => {
          throw new Error('loader failed');
        }),
      ).rejects.toThrow('loader failed');
      expect(await observer.exists(`${prefix}cache:{boom}`)).toBe(0);
      expect(await observer.exists(`${prefix}cache:{boom}:l`)).toBe(0);
    });
  });

  describe('eviction wins', () => {
    it('a slow loader started before del() does not write its result back', async () => {
      const gate = deferred();
      let started = false;
      const pending = cache.wrap('race', async () => {
        started = true;
        await gate.promise;
        return 'stale-from-before-eviction';
      });
      expect(await eventually(() => started, 3_000, 5)).toBe(true);
      await cache.del('race');
      gate.resolve();
      expect(await pending).toBe('stale-from-before-eviction');
      expect(await observer.exists(`${prefix}cache:{race}`)).toBe(0);
      expect(await cache.wrap('race', () => 'fresh')).toBe('fresh');
    });

    it('a slow loader started before invalidateTags() does not write its result back', async () => {
      const gate = deferred();
      let started = false;
      const pending = cache.wrap(
        'tag-race',
        async () => {
          started = true;
          await gate.promise;
          return 'old';
        },
        { tags: ['race-tag'] },
      );
      expect(await eventually(() => started, 3_000, 5)).toBe(true);
      await cache.invalidateTags(['race-tag']);
      gate.resolve();
      await pending;
      expect(await observer.exists(`${prefix}cache:{tag-race}`)).toBe(0);
    });
  });

  describe('tags', () => {
    it('invalidateTags removes exactly the tagged keys', async () => {
      await cache.set('t1', 1, { tags: ['red'] });
      await cache.set('t2', 2, { tags: ['red', 'blue'] });
      await cache.set('t3', 3, { tags: ['blue'] });
      await cache.set('t4', 4);
      expect(await cache.invalidateTags(['red'])).toBe(2);
      expect(await Promise.all(['t1', 't2', 't3', 't4'].map((k) => cache.get(k)))).toEqual([
        undefined,
        undefined,
        3,
        4,
      ]);
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

  describe('clear', () => {
    it('evicts only this namespace, with SCAN', async () => {
      const neighbour = `${prefix}neighbour:key`;
      await observer.set(neighbour, 'keep');
      await cache.set('c1', 1);
      await cache.set('c2', 2, { tags: ['x'] });
      expect(await cache.clear()).toBe(2);
      expect(await cache.get('c1')).toBeUndefined();
      expect(await observer.get(neighbour)).toBe('keep');
      expect(await observer.exists(`${prefix}cache:tag:{x}`)).toBe(0);
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
