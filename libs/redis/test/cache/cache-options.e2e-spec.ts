import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { CacheService, RedisModule, type CacheModuleOptions, type CacheSerializer } from '@app/redis';
import { REDIS_URL, bootstrapTestingApp, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const prefix = uniqueKeyPrefix('cache-options');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const observer = useRedisClient({ deleteKeysUnder: prefix });

describe('cache options against real Redis', () => {
  const apps: INestApplicationContext[] = [];

  async function replica(keyPrefix: string, cache: CacheModuleOptions): Promise<CacheService> {
    const app = await bootstrapTestingApp([RedisModule.forRoot({ url: REDIS_URL, keyPrefix, cache })]);
    apps.push(app);
    return app.get(CacheService);
  }

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('lockTtl: a replica loading a cold key holds a loading lock that expires within lockTtl', async () => {
    const keyPrefix = `${prefix}lock-ttl:`;
    const a = await replica(keyPrefix, { lockTtl: 2_000 });
    let release: (() => void) | undefined;
    const pending = a.wrap('k', () => new Promise<string>((r) => (release = () => r('v'))));
    expect(await eventually(() => release !== undefined, 3_000, 5)).toBe(true);
    const pttl = await observer.pttl(`${keyPrefix}cache:{k}:l`);
    expect(pttl).toBeGreaterThan(1_000);
    expect(pttl).toBeLessThanOrEqual(2_000);
    release?.();
    await pending;
    expect(await observer.exists(`${keyPrefix}cache:{k}:l`)).toBe(0);
  });

  it('a second replica waits for the first one’s value and is woken as soon as it lands', async () => {
    const keyPrefix = `${prefix}wake:`;
    const a = await replica(keyPrefix, { lockWait: 20_000 });
    const b = await replica(keyPrefix, { lockWait: 20_000 });
    await b.get('__start-bus');
    let loadsB = 0;
    const first = a.wrap('k', async () => {
      await sleep(200);
      return 'from-a';
    });
    expect(await eventually(async () => (await observer.exists(`${keyPrefix}cache:{k}:l`)) === 1, 3_000, 5)).toBe(true);
    const started = Date.now();
    const second = await b.wrapWithStatus('k', () => {
      loadsB++;
      return 'from-b';
    });
    expect(await first).toBe('from-a');
    expect(second.value).toBe('from-a');
    expect(loadsB).toBe(0);
    // Woken by pub/sub when A stored, not at the end of lockWait (20 s): a functional bound, not a speed check.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('lockWait: when the loading replica is slower than lockWait, the waiting one loads itself', async () => {
    const keyPrefix = `${prefix}lock-wait:`;
    const a = await replica(keyPrefix, {});
    const b = await replica(keyPrefix, { lockWait: 100 });
    await b.get('__start-bus');
    let releaseA: (() => void) | undefined;
    const first = a.wrap('k', () => new Promise<string>((r) => (releaseA = () => r('from-a'))));
    expect(await eventually(() => releaseA !== undefined, 3_000, 5)).toBe(true);
    expect(await b.wrap('k', () => 'from-b')).toBe('from-b');
    releaseA?.();
    await first;
  });

  it('serializer: a custom serializer is used for every entry', async () => {
    const keyPrefix = `${prefix}serializer:`;
    const upper: CacheSerializer = {
      name: 'upper-json',
      serialize: (value) => JSON.stringify(value).toUpperCase(),
      deserialize: (data) => JSON.parse(data.toString()),
    };
    const cache = await replica(keyPrefix, { serializer: upper });
    await cache.set('k', 'hello');
    expect(await cache.get('k')).toBe('HELLO');
    const raw = await observer.getBuffer(`${keyPrefix}cache:{k}`);
    expect(raw?.subarray(17).toString()).toBe('"HELLO"');
  });

  it('l1.maxEntries and l1.ttl bound the in-process tier', async () => {
    const keyPrefix = `${prefix}l1:`;
    const cache = await replica(keyPrefix, { l1: { maxEntries: 4, ttl: 100 } });
    await cache.get('__start-bus');
    await sleep(50);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) await cache.set(key, i);
    // Two generations of 2: a and b were dropped when c and d filled the young one.
    expect((await cache.getWithStatus('d'))?.tier).toBe('l1');
    expect((await cache.getWithStatus('a'))?.tier).toBe('redis');
    await sleep(150);
    expect((await cache.getWithStatus('d'))?.tier).toBe('redis');
  });

  it('cacheManager: false provides no CACHE_MANAGER (null)', async () => {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: `${prefix}nocm:`, cache: { cacheManager: false } }),
    ]);
    apps.push(app);
    expect(app.get(CACHE_MANAGER)).toBeNull();
  });
});
