import { describe, expect, it } from '@jest/globals';
import { LockNotAcquiredError, LockService, RedisInstrumentation, RedisModule } from '@app/redis';
import { REDIS_URL, eventually, freePort, uniqueKeyPrefix, useTestApps } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('lock-service');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Ownership, mutual exclusion, fencing, expiry, FIFO hand-over and the abort signals are the lock contract
// (test/contracts/lock.contract.ts), run on a single node and on Redis Cluster.
describe('LockService (single node)', () => {
  const testApps = useTestApps(keyPrefix);

  async function lockService(lock: Record<string, unknown> = {}): Promise<LockService> {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix, lock })]);
    return app.get(LockService);
  }

  describe('waiting', () => {
    it("publishes a hand-over on the waiting process's own channel only, not to every subscriber", async () => {
      const holderLocks = await lockService({ retryDelay: 20_000, retryJitter: 0 });
      const waiterLocks = await lockService({ retryDelay: 20_000, retryJitter: 0 });
      const listener = testApps.redis.duplicate();
      const heard: string[] = [];
      listener.on('pmessage', (_pattern: string, channel: string) => heard.push(channel));
      await listener.psubscribe(`${keyPrefix}lock:wake*`);
      try {
        const holder = await holderLocks.acquire('targeted');
        const waiting = waiterLocks.acquire('targeted', { waitTimeout: 5_000 });
        await sleep(100);
        await holder.release();
        const lock = await waiting;
        const instance = lock.token.split('.')[0];
        expect(await eventually(() => heard.length > 0)).toBe(true);
        expect(heard).toEqual([`${keyPrefix}lock:wake:${instance}`]);
        expect(holder.token.split('.')[0]).not.toBe(instance);
        await lock.release();
      } finally {
        listener.disconnect();
      }
    });

    it('does not let a new caller barge past queued waiters', async () => {
      const locks = await lockService();
      const holder = await locks.acquire('barge');
      const waiter = locks.acquire('barge', { waitTimeout: 5_000 });
      await sleep(100);
      await holder.release();
      expect(await locks.tryAcquire('barge')).toBeNull();
      await (await waiter).release();
    });

    it('a crashed waiter drops out of the queue when its lease ends, so the next one is not blocked', async () => {
      const locks = await lockService({ retryDelay: 50, retryJitter: 0 });
      const holder = await locks.acquire('dead-waiter');
      // A waiter that queued and vanished: a queue entry whose lease has run out.
      const queue = `${keyPrefix}lock:{dead-waiter}:queue`;
      const leases = `${keyPrefix}lock:{dead-waiter}:leases`;
      await testApps.redis.rpush(queue, 'ghost');
      await testApps.redis.hset(leases, 'ghost', String(Date.now() - 1));
      const waiter = locks.acquire('dead-waiter', { waitTimeout: 3_000 });
      await sleep(100);
      await holder.release();
      const lock = await waiter;
      expect(await testApps.redis.get(`${keyPrefix}lock:{dead-waiter}`)).toBe(lock.token);
      await lock.release();
    });
  });

  describe('using()', () => {
    it('returns what the work returns and releases the lock', async () => {
      const locks = await lockService();
      const result = await locks.using('using', {}, async (signal, lock) => {
        expect(signal).toBe(lock.signal);
        expect(await testApps.redis.get(`${keyPrefix}lock:{using}`)).toBe(lock.token);
        return 42;
      });
      expect(result).toBe(42);
      expect(await testApps.redis.exists(`${keyPrefix}lock:{using}`)).toBe(0);
    });

    it('releases the lock when the work throws, and rethrows', async () => {
      const locks = await lockService();
      await expect(
        locks.using('using-throws', {}, () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await testApps.redis.exists(`${keyPrefix}lock:{using-throws}`)).toBe(0);
    });

    it('does not run the work when the lock is not acquired', async () => {
      const locks = await lockService();
      const held = await locks.acquire('using-busy');
      let ran = false;
      await expect(locks.using('using-busy', { waitTimeout: 50 }, () => (ran = true))).rejects.toBeInstanceOf(
        LockNotAcquiredError,
      );
      expect(ran).toBe(false);
      await held.release();
    });
  });

  describe('auto-extension and loss', () => {
    it('keeps the lock for 3× its ttl while the work runs, and nobody else gets in', async () => {
      const locks = await lockService();
      const rival = await lockService();
      const ttl = 300;
      let rivalGotIn = false;
      await locks.using('long', { ttl }, async (signal) => {
        const deadline = Date.now() + 3 * ttl;
        while (Date.now() < deadline) {
          const intruder = await rival.tryAcquire('long', { ttl });
          if (intruder) {
            rivalGotIn = true;
            await intruder.release();
          }
          await sleep(25);
        }
        expect(signal.aborted).toBe(false);
      });
      expect(rivalGotIn).toBe(false);
    });

    it('stops extending at maxHoldTime and aborts the signal with reason max-hold-time', async () => {
      const locks = await lockService();
      const lock = await locks.acquire('max-hold', { ttl: 200, maxHoldTime: 500 });
      const started = Date.now();
      expect(await eventually(() => lock.signal.aborted, 3_000, 10)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(lock.signal.reason).toMatchObject({ reason: 'max-hold-time' });
      expect(
        await eventually(async () => (await testApps.redis.exists(`${keyPrefix}lock:{max-hold}`)) === 0, 1_000),
      ).toBe(true);
      expect(await lock.release()).toBe(false);
    });

    it('extend() moves expiresAt and the key TTL', async () => {
      const locks = await lockService({ autoExtend: false });
      const lock = await locks.acquire('extend', { ttl: 1_000 });
      const before = lock.expiresAt;
      await lock.extend(5_000);
      expect(lock.expiresAt).toBeGreaterThan(before + 3_000);
      expect(await testApps.redis.pttl(`${keyPrefix}lock:{extend}`)).toBeGreaterThan(4_000);
      await lock.release();
    });
  });

  describe('failure and shutdown', () => {
    it('fails closed with reason "unreachable" when Redis does not answer', async () => {
      const port = await freePort();
      const app = await testApps.boot([
        RedisModule.forRoot({ url: `redis://127.0.0.1:${port}`, keyPrefix, startDegraded: true, connectTimeout: 200 }),
      ]);
      const error = await app
        .get(LockService)
        .acquire('down', { waitTimeout: 300 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(error).toMatchObject({ reason: 'unreachable', resource: 'down' });
    });

    it('releases the locks still held when the application closes', async () => {
      const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix })]);
      await app.get(LockService).acquire('shutdown');
      expect(await testApps.redis.exists(`${keyPrefix}lock:{shutdown}`)).toBe(1);
      await app.close();
      expect(await testApps.redis.exists(`${keyPrefix}lock:{shutdown}`)).toBe(0);
    });

    it('reports acquisitions, failures and losses to RedisInstrumentation', async () => {
      const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix })]);
      const events: string[] = [];
      const instrumentation = app.get(RedisInstrumentation);
      instrumentation.on('lock.acquired', (e) => events.push(`acquired:${e.mode}`));
      instrumentation.on('lock.failed', (e) => events.push(`failed:${e.reason}`));
      instrumentation.on('lock.lost', (e) => events.push(`lost:${e.mode}`));
      const locks = app.get(LockService);
      const lock = await locks.acquire('events', { ttl: 200, autoExtend: false });
      await locks.acquire('events', { waitTimeout: 20 }).catch(() => undefined);
      await eventually(() => lock.signal.aborted, 2_000, 10);
      expect(events).toEqual(['acquired:single', 'failed:contention', 'lost:single']);
    });

    it('rejects an empty resource name and invalid per-call options', async () => {
      const locks = await lockService();
      await expect(locks.acquire('')).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS', field: 'resource' });
      await expect(locks.acquire('x', { ttl: -1 })).rejects.toMatchObject({ field: 'lock options.ttl' });
    });
  });
});
