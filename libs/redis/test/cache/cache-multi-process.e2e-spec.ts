import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { REDIS_URL, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { CacheWorkerProcess } from './fixtures/cache-worker-process.js';

const prefix = uniqueKeyPrefix('cache-multi-process');
const observer = useRedisClient({ deleteKeysUnder: prefix });

/** Subscribers on the cache channel of `keyPrefix`: every worker's invalidation subscription is live. */
async function subscribers(observer: Redis, keyPrefix: string): Promise<number> {
  const [, count] = (await observer.pubsub('NUMSUB', `${keyPrefix}cache:events`)) as [string, number];
  return Number(count);
}

describe('Cache across separate OS processes', () => {
  let workers: CacheWorkerProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  });

  it('3 processes hitting one cold key at once call the loader once in total', async () => {
    const keyPrefix = `${prefix}sf:`;
    workers = await Promise.all(
      [0, 1, 2].map(() => CacheWorkerProcess.start(REDIS_URL, keyPrefix, { loaderDelayMs: 300 })),
    );
    expect(await eventually(async () => (await subscribers(observer, keyPrefix)) === 3, 5_000)).toBe(true);

    const results = await Promise.all(workers.map((w) => w.send<{ value: string; status: string }>('wrap', 'cold')));
    expect(Number(await observer.get(`${keyPrefix}test:loads:cold`))).toBe(1);
    const values = new Set(results.map((r) => r.value));
    expect(values.size).toBe(1);
    expect(results.filter((r) => r.status === 'miss')).toHaveLength(1);
  });

  it('L1: a write or eviction in one process drops the copy another process holds', async () => {
    const keyPrefix = `${prefix}l1:`;
    workers = await Promise.all([0, 1].map(() => CacheWorkerProcess.start(REDIS_URL, keyPrefix, { l1: true })));
    const [a, b] = workers;
    expect(await eventually(async () => (await subscribers(observer, keyPrefix)) === 2, 5_000)).toBe(true);

    await b.send('set', 'shared', 'v1');
    expect(await a.send('get', 'shared')).toMatchObject({ value: 'v1', tier: 'redis' });
    expect(await a.send('get', 'shared')).toMatchObject({ value: 'v1', tier: 'l1' });

    await b.send('set', 'shared', 'v2');
    // Bound: pub/sub delivery (the message is in A's socket when B's set resolves; A handles it on its next tick).
    expect(
      await eventually(async () => (await a.send<{ value: string }>('get', 'shared')).value === 'v2', 1_000, 5),
    ).toBe(true);

    await b.send('del', 'shared');
    expect(
      await eventually(async () => (await a.send<{ status: string }>('get', 'shared')).status === 'absent', 1_000, 5),
    ).toBe(true);
  });
});
