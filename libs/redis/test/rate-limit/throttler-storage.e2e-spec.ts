import { describe, expect, it } from '@jest/globals';
import { RedisModule, getRedisConnectionToken } from '@app/redis';
import { RateLimitModule, RedisThrottlerStorage } from '@app/redis/rate-limit';
import type { Redis } from 'ioredis';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';
import { startWorker } from './fixtures/spawn-worker.js';

const keyPrefix = uniqueKeyPrefix('throttler-storage');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `values` counted by value: how many times each `totalHits` was handed out. */
function histogram(values: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

describe('RedisThrottlerStorage', () => {
  const testApps = useTestApps(keyPrefix);

  async function storage(): Promise<{ storage: RedisThrottlerStorage; client: Redis }> {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RateLimitModule.forRoot()]);
    return { storage: app.get(RedisThrottlerStorage), client: app.get<Redis>(getRedisConnectionToken()) };
  }

  it('answers in the in-memory storage units: ttl and blockDuration in ms in, seconds (rounded up) out', async () => {
    const { storage: s } = await storage();
    const first = await s.increment('units', 10_000, 2, 20_000, 'default');
    expect(first).toEqual({ totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
    expect(await s.increment('units', 10_000, 2, 20_000, 'default')).toMatchObject({ totalHits: 2, isBlocked: false });
    const over = await s.increment('units', 10_000, 2, 20_000, 'default');
    expect(over).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 20 });
    expect(over.timeToExpire).toBeGreaterThanOrEqual(9);
    expect(over.timeToExpire).toBeLessThanOrEqual(10);
  });

  it('keeps both keys of a counter under keyPrefix, sharing the {key} hash tag; throttler names count separately', async () => {
    const { storage: s, client } = await storage();
    await s.increment('slot-key', 10_000, 1, 10_000, 'short');
    await s.increment('slot-key', 10_000, 1, 10_000, 'short');
    await s.increment('slot-key', 10_000, 1, 10_000, 'long');
    const counter = `${keyPrefix}throttler:{slot-key}:short`;
    expect(s.redisKey('slot-key', 'short')).toBe(counter);
    expect(await client.get(counter)).toBe('2');
    expect(await client.exists(`${counter}:block`)).toBe(1);
    expect(await client.get(`${keyPrefix}throttler:{slot-key}:long`)).toBe('1');
  });

  it('honours blockDuration: refused (and not counted) while blocked, even after the window; a fresh count after', async () => {
    const { storage: s, client } = await storage();
    const hit = () => s.increment('block', 1_000, 3, 2_500, 'default');
    const allowed = [await hit(), await hit(), await hit()];
    expect(allowed.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    const blocked = await hit();
    expect(blocked).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 3 });
    await sleep(1_300);
    // The 1 s window is over, the 2.5 s block is not.
    expect(await client.exists(`${keyPrefix}throttler:{block}:default`)).toBe(0);
    const stillBlocked = await hit();
    expect(stillBlocked.isBlocked).toBe(true);
    expect(stillBlocked.timeToBlockExpire).toBeLessThanOrEqual(2);
    await sleep(1_500);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
  });

  it('starts a fresh count on the first hit after a block shorter than the window', async () => {
    const { storage: s } = await storage();
    const hit = () => s.increment('short-block', 10_000, 2, 300, 'default');
    await hit();
    await hit();
    expect((await hit()).isBlocked).toBe(true);
    await sleep(500);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('without a block (blockDuration 0) refuses hits over the limit without counting them until the window ends', async () => {
    const { storage: s } = await storage();
    const hit = () => s.increment('no-block', 800, 2, 0, 'default');
    await hit();
    await hit();
    const refused = await hit();
    expect(refused).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 1 });
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true });
    await sleep(1_000);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('3 processes × 300 hits, 20 in flight each, on one key: exactly `limit` allowed, the rest blocked', async () => {
    const limit = 250;
    const plan = { key: 'hammer', ttl: 30_000, limit, blockDuration: 30_000, concurrency: 20, hits: 300 };
    const workers = await Promise.all(
      [0, 1, 2].map(() => startWorker('throttler-worker.ts', [REDIS_URL, keyPrefix, JSON.stringify(plan)])),
    );
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.output))).map(
      (line) => JSON.parse(line) as { allowed: number[]; refused: number },
    );
    const allowed = results.flatMap((r) => r.allowed);
    expect(allowed).toHaveLength(limit);
    expect(results.reduce((sum, r) => sum + r.refused, 0)).toBe(900 - limit);
    // Every count from 1 to the limit was handed out exactly once, across the processes.
    expect([...allowed].sort((a, b) => a - b)).toEqual(Array.from({ length: limit }, (_, i) => i + 1));
    expect(results.filter((r) => r.allowed.length > 0).length).toBeGreaterThan(1);
  }, 120_000);

  it('3 processes hammering one key for several 1.5 s windows (no block): exactly `limit` allowed per window', async () => {
    const limit = 20;
    const plan = { key: 'windows', ttl: 1_500, limit, blockDuration: 0, concurrency: 5, durationMs: 4_000 };
    const workers = await Promise.all(
      [0, 1, 2].map(() => startWorker('throttler-worker.ts', [REDIS_URL, keyPrefix, JSON.stringify(plan)])),
    );
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.output))).map(
      (line) => JSON.parse(line) as { allowed: number[]; refused: number },
    );
    const counts = histogram(results.flatMap((r) => r.allowed));
    // A window starts with the hit counted 1: there were `windows` of them, and each handed out 1..limit once.
    const windows = counts.get(1) ?? 0;
    expect(windows).toBeGreaterThanOrEqual(3);
    expect(Math.max(...counts.keys())).toBe(limit);
    expect([...counts.entries()].sort((a, b) => a[0] - b[0])).toEqual(
      Array.from({ length: limit }, (_, i) => [i + 1, windows]),
    );
    expect(results.reduce((sum, r) => sum + r.refused, 0)).toBeGreaterThan(0);
  }, 120_000);
});
