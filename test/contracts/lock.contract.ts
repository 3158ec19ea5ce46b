import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { type Lock, LockLostError, LockNotAcquiredError, LockService, RedisModule } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
} from '@test/harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

/** One critical section as its holder saw it. */
interface Section {
  start: number;
  end: number;
  fence: number;
  holder: number;
}

/**
 * What `LockService` promises on any Redis deployment, written once and run per topology (as bentocache's driver
 * test suite runs once per driver): the owner token under the key prefix, mutual exclusion between concurrent
 * acquirers in separate applications, strictly increasing fencing tokens, expiry freeing the lock, release by the
 * owner only, hand-over to waiters in FIFO order, the abort signals (the caller's giving up, the holder's loss), and
 * failing closed while the node holding the lock is stopped.
 * Call it at the top level of a spec file.
 */
export function lockContract(topology: RedisTopology): void {
  describe(`Lock contract on ${topology.name}`, () => {
    const keyPrefix = uniqueKeyPrefix('lock-contract');
    let running: RunningTopology;
    const apps: INestApplicationContext[] = [];

    /** A LockService in an application of its own (its own connections), closed after the test. */
    async function lockService(lock: Record<string, unknown> = {}): Promise<LockService> {
      const app = await bootstrapTestingApp([RedisModule.forRoot({ ...running.connection, keyPrefix, lock })]);
      apps.push(app);
      return app.get(LockService);
    }

    beforeAll(async () => {
      running = await topology.start();
    }, 60_000);

    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
    });

    afterAll(async () => {
      await running?.stop();
    });

    describe('acquire() / release()', () => {
      it('stores the owner token under the key prefix and deletes it on release', async () => {
        const locks = await lockService();
        const lock = await locks.acquire('orders:1', { ttl: 5_000 });
        expect(lock.resource).toBe('orders:1');
        expect(await running.observer.get(`${keyPrefix}lock:{orders:1}`)).toBe(lock.token);
        const pttl = await running.observer.pttl(`${keyPrefix}lock:{orders:1}`);
        expect(pttl).toBeGreaterThan(4_000);
        expect(lock.expiresAt).toBeGreaterThan(Date.now() + 4_000);
        expect(lock.expiresAt).toBeLessThanOrEqual(Date.now() + 5_000);
        expect(lock.signal.aborted).toBe(false);
        expect(await lock.release()).toBe(true);
        expect(await running.observer.exists(`${keyPrefix}lock:{orders:1}`)).toBe(0);
        expect(await lock.release()).toBe(false);
        expect(lock.signal.aborted).toBe(false);
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
    });

    describe('mutual exclusion and fencing', () => {
      it('4 applications × 25 read-modify-write sections: counter exact, no overlap, fencing tokens increasing', async () => {
        const holders = await Promise.all([0, 1, 2, 3].map(() => lockService()));
        const counterKey = `${keyPrefix}counter`;
        const sections: Section[] = [];
        await Promise.all(
          holders.map(async (locks, holder) => {
            for (let i = 0; i < 25; i++) {
              const lock = await locks.acquire('counter', { ttl: 5_000, waitTimeout: 30_000 });
              const start = now();
              const value = Number((await running.observer.get(counterKey)) ?? '0');
              if (Math.random() < 0.5) await sleep(Math.floor(Math.random() * 3));
              await running.observer.set(counterKey, String(value + 1));
              const end = now();
              expect(lock.signal.aborted).toBe(false);
              sections.push({ start, end, fence: lock.fencingToken, holder });
              await lock.release();
            }
          }),
        );
        expect(Number(await running.observer.get(counterKey))).toBe(100);
        const ordered = [...sections].sort((a, b) => a.start - b.start);
        expect(ordered.filter((s, i) => i > 0 && s.start < ordered[i - 1].end)).toEqual([]);
        expect(ordered.filter((s, i) => i > 0 && s.fence <= ordered[i - 1].fence)).toEqual([]);
        // The applications really contended: the lock changed hands between them.
        expect(ordered.filter((s, i) => i > 0 && s.holder !== ordered[i - 1].holder).length).toBeGreaterThan(3);
      }, 60_000);

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
    });

    describe('expiry and ownership', () => {
      it('without autoExtend the lock runs out after its ttl, the signal says so, and a waiter gets it', async () => {
        const locks = await lockService({ autoExtend: false });
        const rival = await lockService();
        const lock = await locks.acquire('no-extend', { ttl: 150 });
        const next = await rival.acquire('no-extend', { ttl: 5_000, waitTimeout: 3_000 });
        expect(next.fencingToken).toBeGreaterThan(lock.fencingToken);
        expect(await eventually(() => lock.signal.aborted, 2_000, 10)).toBe(true);
        expect(lock.signal.reason).toMatchObject({ reason: 'expired' });
        expect(await lock.release()).toBe(false);
        expect(await running.observer.get(`${keyPrefix}lock:{no-extend}`)).toBe(next.token);
        await next.release();
      });

      it('release() never deletes a lock another owner holds, and reports it no longer owned it', async () => {
        const locks = await lockService({ autoExtend: false });
        const first = await locks.acquire('stolen');
        await running.observer.del(`${keyPrefix}lock:{stolen}`);
        const second = await locks.acquire('stolen');
        expect(await first.release()).toBe(false);
        expect(await running.observer.get(`${keyPrefix}lock:{stolen}`)).toBe(second.token);
        await second.release();
      });
    });

    describe('waiting and abort signals', () => {
      it('wakes waiters on release instead of polling, in FIFO order', async () => {
        // A 20 s fallback poll: only the release hand-over can wake the waiters within the 5 s wait.
        const locks = await lockService({ retryDelay: 20_000, retryJitter: 0 });
        const other = await lockService({ retryDelay: 20_000, retryJitter: 0 });
        const holder = await locks.acquire('fifo');
        const order: number[] = [];
        const waiters: Array<Promise<void>> = [];
        for (const i of [0, 1, 2]) {
          waiters.push(
            (async () => {
              const lock = await (i % 2 ? other : locks).acquire('fifo', { waitTimeout: 5_000 });
              order.push(i);
              await sleep(10);
              await lock.release();
            })(),
          );
          // The next waiter starts once this one is queued: a fixed stagger let a loaded machine reorder them.
          const queued = async () => (await running.observer.llen(`${keyPrefix}lock:{fifo}:queue`)) === i + 1;
          expect(await eventually(queued, 5_000, 10)).toBe(true);
        }
        await sleep(100);
        await holder.release();
        await Promise.all(waiters);
        expect(order).toEqual([0, 1, 2]);
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

      it('aborts the signal with LockLostError (taken) when the key is deleted under the holder', async () => {
        const locks = await lockService();
        const lock = await locks.acquire('lost', { ttl: 300 });
        await running.observer.del(`${keyPrefix}lock:{lost}`);
        const next = await locks.acquire('lost', { ttl: 5_000, waitTimeout: 1_000 });
        expect(await eventually(() => lock.signal.aborted, 2_000, 10)).toBe(true);
        expect(lock.signal.reason).toBeInstanceOf(LockLostError);
        expect(lock.signal.reason).toMatchObject({ code: 'E_LOCK_LOST', reason: 'taken', resource: 'lost' });
        expect(await lock.release()).toBe(false);
        expect(await running.observer.get(`${keyPrefix}lock:{lost}`)).toBe(next.token);
        await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
        await next.release();
      });
    });

    // Last: it stops a node, and the topology must recover before the suite ends.
    describe('fail-closed', () => {
      it('with the node holding the lock stopped, acquire fails as "unreachable"; after its restart it succeeds', async () => {
        const locks = await lockService();
        await (await locks.acquire('down')).release();
        const restart = await running.stopNodeHolding(`${keyPrefix}lock:{down}`);
        try {
          const error = await locks.acquire('down', { waitTimeout: 500 }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(LockNotAcquiredError);
          expect(error).toMatchObject({ reason: 'unreachable', resource: 'down' });
        } finally {
          await restart();
        }
        const lock = await locks.acquire('down', { waitTimeout: 20_000 });
        expect(await running.observer.get(`${keyPrefix}lock:{down}`)).toBe(lock.token);
        await lock.release();
      }, 60_000);
    });
  });
}
