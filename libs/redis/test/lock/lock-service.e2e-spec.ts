import { describe, expect, it } from '@jest/globals';
import {
  type Lock,
  LockLostError,
  LockNotAcquiredError,
  LockService,
  RedisInstrumentation,
  RedisModule,
} from '@app/redis';
import { REDIS_URL, eventually, freePort, uniqueKeyPrefix, useTestApps } from '../../../../test/harness/index.js';

const keyPrefix = uniqueKeyPrefix('lock-service');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockService (single node)', () => {
  const testApps = useTestApps(keyPrefix);

  async function lockService(lock: Record<string, unknown> = {}): Promise<LockService> {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix, lock })]);
    return app.get(LockService);
  }

  describe('acquire() / release()', () => {
    it('stores the owner token under the key prefix and deletes it on release', async () => {
      const locks = await lockService();
      const lock = await locks.acquire('orders:1', { ttl: 5_000 });
      expect(lock.resource).toBe('orders:1');
      expect(await testApps.redis.get(`${keyPrefix}lock:{orders:1}`)).toBe(lock.token);
      const pttl = await testApps.redis.pttl(`${keyPrefix}lock:{orders:1}`);
      expect(pttl).toBeGreaterThan(4_000);
      expect(lock.expiresAt).toBeGreaterThan(Date.now() + 4_000);
      expect(lock.expiresAt).toBeLessThanOrEqual(Date.now() + 5_000);
      expect(lock.signal.aborted).toBe(false);
      expect(await lock.release()).toBe(true);
      expect(await testApps.redis.exists(`${keyPrefix}lock:{orders:1}`)).toBe(0);
      expect(await lock.release()).toBe(false);
      expect(lock.signal.aborted).toBe(false);
    });

    it('gives every acquisition a fresh token and a strictly greater fencing token', async () => {
      const locks = await lockService();
      const seen: Lock[] = [];
      for (let i = 0; i < 5; i++) {
        const lock = await locks.acquire('fence');
        seen.push(lock);
        await lock.release();
      }
      expect(new Set(seen.map((l) => l.token)).size).toBe(5);
      for (let i = 1; i < seen.length; i++) expect(seen[i].fencingToken).toBeGreaterThan(seen[i - 1].fencingToken);
    });

    it('throws LockNotAcquiredError (reason contention, with the resource) when the lock stays busy', async () => {
      const locks = await lockService();
      const held = await locks.acquire('busy');
      const error = await locks.acquire('busy', { waitTimeout: 150 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(error).toMatchObject({ code: 'E_LOCK_NOT_ACQUIRED', resource: 'busy', reason: 'contention' });
      expect((error as LockNotAcquiredError).waitedMs).toBeGreaterThanOrEqual(150);
      await held.release();
    });

    it('tryAcquire() returns null while another owner holds the lock, and the lock once it is free', async () => {
      const locks = await lockService();
      const held = await locks.acquire('try');
      expect(await locks.tryAcquire('try')).toBeNull();
      await held.release();
      const lock = await locks.tryAcquire('try');
      expect(lock).not.toBeNull();
      await lock?.release();
    });

    it('release() never deletes a lock another owner holds, and reports it no longer owned it', async () => {
      const locks = await lockService({ autoExtend: false });
      const first = await locks.acquire('stolen');
      await testApps.redis.del(`${keyPrefix}lock:{stolen}`);
      const second = await locks.acquire('stolen');
      expect(await first.release()).toBe(false);
      expect(await testApps.redis.get(`${keyPrefix}lock:{stolen}`)).toBe(second.token);
      await second.release();
    });
  });

  describe('waiting', () => {
    it('wakes waiters on release instead of polling, in FIFO order', async () => {
      // A 20 s fallback poll: only the release hand-over can wake the waiters within the 5 s wait.
      const locks = await lockService({ retryDelay: 20_000, retryJitter: 0 });
      const other = await lockService({ retryDelay: 20_000, retryJitter: 0 });
      const holder = await locks.acquire('fifo');
      const order: number[] = [];
      const waiters = [0, 1, 2].map(async (i) => {
        await sleep(i * 50);
        const lock = await (i % 2 ? other : locks).acquire('fifo', { waitTimeout: 5_000 });
        order.push(i);
        await sleep(10);
        await lock.release();
      });
      await sleep(250);
      await holder.release();
      await Promise.all(waiters);
      expect(order).toEqual([0, 1, 2]);
    });

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

    it('aborting the caller signal stops the wait with reason "aborted"', async () => {
      const locks = await lockService();
      const holder = await locks.acquire('abort');
      const controller = new AbortController();
      const pending = locks
        .acquire('abort', { waitTimeout: 5_000, signal: controller.signal })
        .catch((e: unknown) => e);
      await sleep(100);
      controller.abort();
      expect(await pending).toMatchObject({ reason: 'aborted', resource: 'abort' });
      await holder.release();
      const next = await locks.tryAcquire('abort');
      expect(next).not.toBeNull();
      await next?.release();
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

    it('aborts the signal with LockLostError (taken) when the key is deleted under the holder', async () => {
      const locks = await lockService();
      const lock = await locks.acquire('lost', { ttl: 300 });
      await testApps.redis.del(`${keyPrefix}lock:{lost}`);
      const next = await locks.acquire('lost', { ttl: 5_000, waitTimeout: 1_000 });
      expect(await eventually(() => lock.signal.aborted, 2_000, 10)).toBe(true);
      expect(lock.signal.reason).toBeInstanceOf(LockLostError);
      expect(lock.signal.reason).toMatchObject({ code: 'E_LOCK_LOST', reason: 'taken', resource: 'lost' });
      expect(await lock.release()).toBe(false);
      expect(await testApps.redis.get(`${keyPrefix}lock:{lost}`)).toBe(next.token);
      await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
      await next.release();
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

    it('without autoExtend the lock runs out after its ttl and the signal says so', async () => {
      const locks = await lockService({ autoExtend: false });
      const lock = await locks.acquire('no-extend', { ttl: 150 });
      expect(await eventually(() => lock.signal.aborted, 2_000, 10)).toBe(true);
      expect(lock.signal.reason).toMatchObject({ reason: 'expired' });
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
