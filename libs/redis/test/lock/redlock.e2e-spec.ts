import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { type Lock, LockNotAcquiredError, LockService, RedisModule } from '@app/redis';
import {
  REDIS_URL,
  RedisServerProcess,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
  useRedisClient,
} from '@test/harness';

const keyPrefix = uniqueKeyPrefix('redlock');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

interface Section {
  start: number;
  end: number;
  fence: number;
}

describe('LockService (Redlock, 3 throwaway nodes)', () => {
  let nodes: RedisServerProcess[];
  const apps: INestApplicationContext[] = [];

  async function redlockService(lock: Record<string, unknown> = {}): Promise<LockService> {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix, lock: { nodes: nodes.map((n) => n.url), ...lock } }),
    ]);
    apps.push(app);
    return app.get(LockService);
  }

  /** Read-modify-write sections on a counter in the main Redis, under the Redlock lock. */
  async function runSections(locks: LockService, count: number, counterKey: string, out: Section[]): Promise<void> {
    for (let i = 0; i < count; i++) {
      const lock = await locks.acquire('counter', { ttl: 2_000, waitTimeout: 20_000, retryDelay: 20 });
      const start = now();
      const value = Number((await redis.get(counterKey)) ?? '0');
      await sleep(Math.floor(Math.random() * 3));
      await redis.set(counterKey, String(value + 1));
      const end = now();
      expect(lock.signal.aborted).toBe(false);
      out.push({ start, end, fence: lock.fencingToken });
      await lock.release();
    }
  }

  function expectSafe(sections: Section[]): void {
    const sorted = [...sections].sort((a, b) => a.start - b.start);
    expect(sorted.filter((s, i) => i > 0 && s.start < sorted[i - 1].end)).toEqual([]);
    expect(sorted.filter((s, i) => i > 0 && s.fence <= sorted[i - 1].fence)).toEqual([]);
  }

  beforeAll(async () => {
    nodes = await Promise.all([0, 1, 2].map(() => RedisServerProcess.start()));
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(nodes.filter((n) => !n.running).map((n) => n.restart()));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('holds the lock on every node under one token and releases it everywhere', async () => {
    const locks = await redlockService();
    expect(locks.mode).toBe('redlock');
    const lock = await locks.acquire('basic', { ttl: 5_000 });
    const observers = nodes.map((n) => new Redis(n.url));
    try {
      const values = await Promise.all(observers.map((o) => o.get(`${keyPrefix}lock:{basic}`)));
      expect(values).toEqual([lock.token, lock.token, lock.token]);
      expect(await locks.tryAcquire('basic')).toBeNull();
      expect(await lock.release()).toBe(true);
      // release() settles with a majority; the last node follows on its own connection.
      const allGone = async () =>
        (await Promise.all(observers.map((o) => o.exists(`${keyPrefix}lock:{basic}`)))).every((n) => n === 0);
      expect(await eventually(allGone, 2_000, 10)).toBe(true);
    } finally {
      observers.forEach((o) => o.disconnect());
    }
  });

  it('one node killed mid-run: work continues, the counter is exact, no overlap, fencing tokens increase', async () => {
    const workers = await Promise.all([0, 1, 2, 3].map(() => redlockService()));
    const counterKey = `${keyPrefix}counter-one-down`;
    const sections: Section[] = [];
    const perWorker = 40;
    const run = Promise.all(workers.map((locks) => runSections(locks, perWorker, counterKey, sections)));
    while (sections.length < perWorker) await sleep(5);
    await nodes[0].kill();
    const killedAt = sections.length;
    await run;
    expect(killedAt).toBeLessThan(workers.length * perWorker);
    expect(Number(await redis.get(counterKey))).toBe(workers.length * perWorker);
    expect(sections).toHaveLength(workers.length * perWorker);
    expectSafe(sections);
  });

  it('a node restarted empty does not break fencing-token order (counters are lifted to the quorum maximum)', async () => {
    const locks = await redlockService();
    const tokens: number[] = [];
    const take = async () => {
      const lock: Lock = await locks.acquire('fence-restart', { waitTimeout: 5_000 });
      tokens.push(lock.fencingToken);
      await lock.release();
    };
    for (let i = 0; i < 3; i++) await take();
    await nodes[1].kill();
    for (let i = 0; i < 5; i++) await take();
    await nodes[1].restart();
    await sleep(300);
    await nodes[2].kill();
    for (let i = 0; i < 5; i++) await take();
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  });

  it('a node dying with an attempt in flight fails that attempt at once, so the retry wins once a majority is back', async () => {
    // Node 0 grants, node 1 (down) refuses at once, node 2 (paused) holds the command: the attempt is undecided
    // until node 2 answers. Its connection then drops with the command in flight, which must fail the attempt
    // there and then; a command kept for resending after a reconnection held the attempt until its deadline (the
    // whole `waitTimeout` here, which is shorter than the ttl), and the acquisition failed.
    const locks = await redlockService();
    await nodes[1].kill();
    nodes[2].pause();
    const acquiring = locks.acquire('in-flight-death', { ttl: 30_000, waitTimeout: 10_000, retryDelay: 50 });
    await sleep(300);
    await nodes[2].kill();
    await nodes[1].restart();
    const lock = await acquiring;
    expect(lock.signal.aborted).toBe(false);
    expect(await lock.release()).toBe(true);
  });

  it('two nodes down: acquisitions fail with LockNotAcquiredError (no-quorum), never a false grant', async () => {
    const locks = await redlockService();
    await Promise.all([nodes[0].kill(), nodes[2].kill()]);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        locks.acquire('two-down', { waitTimeout: 300, retryDelay: 20 }).then(
          (lock) => lock,
          (error: unknown) => error,
        ),
      ),
    );
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(LockNotAcquiredError);
      expect(outcome).toMatchObject({ reason: 'no-quorum', resource: 'two-down' });
    }
    await expect(locks.tryAcquire('two-down')).rejects.toMatchObject({ reason: 'no-quorum' });
    let ran = false;
    await expect(locks.using('two-down', { waitTimeout: 100 }, () => (ran = true))).rejects.toBeInstanceOf(
      LockNotAcquiredError,
    );
    expect(ran).toBe(false);
  });

  it('aborts the signal when a majority stops answering while the lock is held', async () => {
    const locks = await redlockService();
    const lock = await locks.acquire('majority-lost', { ttl: 400 });
    nodes[0].pause();
    nodes[1].pause();
    try {
      await new Promise<void>((resolve) => lock.signal.addEventListener('abort', () => resolve(), { once: true }));
      expect(lock.signal.reason).toMatchObject({ code: 'E_LOCK_LOST', reason: 'expired' });
    } finally {
      nodes[0].resume();
      nodes[1].resume();
    }
  });

  it('release() settles within releaseTimeout when a majority is paused, and stops the watchdog', async () => {
    const releaseTimeout = 300;
    const locks = await redlockService({ releaseTimeout });
    const lock = await locks.acquire('release-paused', { ttl: 400 });
    nodes[0].pause();
    nodes[1].pause();
    try {
      const started = Date.now();
      const error = await lock.release().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(releaseTimeout + 250);
      expect(error).toMatchObject({ code: 'E_LOCK_RELEASE_TIMEOUT', context: { resource: 'release-paused' } });
      await sleep(800);
      expect(lock.signal.aborted).toBe(false);
    } finally {
      nodes[0].resume();
      nodes[1].resume();
    }
  });
});
