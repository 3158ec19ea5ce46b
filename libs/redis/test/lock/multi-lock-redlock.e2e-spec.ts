import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LockNotAcquiredError, LockService, RedisModule } from '@app/redis';
import { REDIS_URL, RedisServerProcess, bootstrapTestingApp, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('multi-lock-redlock');
useRedisClient({ deleteKeysUnder: keyPrefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockService over several resources (Redlock, 3 throwaway nodes)', () => {
  let nodes: RedisServerProcess[];
  let observers: Redis[];
  const apps: INestApplicationContext[] = [];
  const lockKey = (resource: string) => `${keyPrefix}lock:{${resource}}`;

  async function redlockService(): Promise<LockService> {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix, lock: { nodes: nodes.map((n) => n.url) } }),
    ]);
    apps.push(app);
    return app.get(LockService);
  }

  /** The value of each resource's lock key on each node (null where it is free). */
  function onNodes(resources: string[]): Promise<Array<Array<string | null>>> {
    return Promise.all(resources.map((r) => Promise.all(observers.map((o) => o.get(lockKey(r))))));
  }

  beforeAll(async () => {
    nodes = await Promise.all([0, 1, 2].map(() => RedisServerProcess.start()));
    observers = nodes.map((n) => new Redis(n.url));
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    observers.forEach((o) => o.disconnect());
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('holds every resource on every node under its own token, with a fencing token per resource', async () => {
    const locks = await redlockService();
    const lock = await locks.acquire(['rl:b', 'rl:a']);
    expect(lock.resources).toEqual(['rl:a', 'rl:b']);
    expect(await onNodes(['rl:a', 'rl:b'])).toEqual(lock.locks.map((l) => [l.token, l.token, l.token]));
    expect(lock.fencingTokens['rl:a']).toBeGreaterThan(0);
    await lock.release();
    const again = await locks.acquire(['rl:a', 'rl:b']);
    expect(again.fencingTokens['rl:a']).toBeGreaterThan(lock.fencingTokens['rl:a']);
    expect(again.fencingTokens['rl:b']).toBeGreaterThan(lock.fencingTokens['rl:b']);
    await again.release();
    expect(await onNodes(['rl:a', 'rl:b'])).toEqual([
      [null, null, null],
      [null, null, null],
    ]);
  });

  it('all-or-nothing: one resource held elsewhere leaves none of the others held on any node', async () => {
    const [locks, other] = [await redlockService(), await redlockService()];
    const holder = await other.acquire('rl:y');
    const error = await locks.acquire(['rl:z', 'rl:y', 'rl:x'], { waitTimeout: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockNotAcquiredError);
    expect(error).toMatchObject({ resource: 'rl:y', reason: 'contention' });
    await sleep(50);
    expect(await onNodes(['rl:x', 'rl:y', 'rl:z'])).toEqual([
      [null, null, null],
      [holder.token, holder.token, holder.token],
      [null, null, null],
    ]);
    expect(await locks.tryAcquire(['rl:x', 'rl:y'])).toBeNull();
    await sleep(50);
    expect((await onNodes(['rl:x']))[0]).toEqual([null, null, null]);
    await holder.release();
  });
});
