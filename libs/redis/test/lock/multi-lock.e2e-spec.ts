import { describe, expect, it } from '@jest/globals';
import {
  LockNotAcquiredError,
  LockService,
  type MultiLock,
  RedisModule,
  RedisOptionsError,
  WithLock,
} from '@app/redis';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';
import { AccountsModule, AccountsService } from './fixtures/multi-lock.fixtures.js';

const keyPrefix = uniqueKeyPrefix('multi-lock');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockService over several resources (single node)', () => {
  const testApps = useTestApps(keyPrefix);
  const lockKey = (resource: string) => `${keyPrefix}lock:{${resource}}`;

  async function lockService(lock: Record<string, unknown> = {}): Promise<LockService> {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix, lock })]);
    return app.get(LockService);
  }

  async function heldResources(resources: string[]): Promise<string[]> {
    const exists = await Promise.all(resources.map((r) => testApps.redis.exists(lockKey(r))));
    return resources.filter((_, i) => exists[i] === 1);
  }

  describe('acquire([...])', () => {
    it('holds every resource under its own token, deduplicated and in canonical order, and releases them all', async () => {
      const locks = await lockService();
      const lock = await locks.acquire(['m:c', 'm:a', 'm:b', 'm:a']);
      expect(lock.resources).toEqual(['m:a', 'm:b', 'm:c']);
      expect(lock.locks.map((l) => l.resource)).toEqual(['m:a', 'm:b', 'm:c']);
      const values = await Promise.all(lock.resources.map((r) => testApps.redis.get(lockKey(r))));
      expect(values).toEqual(lock.locks.map((l) => l.token));
      expect(Object.keys(lock.fencingTokens).sort()).toEqual(['m:a', 'm:b', 'm:c']);
      lock.locks.forEach((l) => expect(lock.fencingTokens[l.resource]).toBe(l.fencingToken));
      expect(lock.expiresAt).toBe(Math.min(...lock.locks.map((l) => l.expiresAt)));
      expect(await locks.tryAcquire('m:b')).toBeNull();
      expect(await lock.release()).toBe(true);
      expect(await heldResources(['m:a', 'm:b', 'm:c'])).toEqual([]);
      expect(await lock.release()).toBe(false);
    });

    it('all-or-nothing: when one resource stays held by someone else, none of the others is left held', async () => {
      const [locks, other] = [await lockService(), await lockService()];
      const holder = await other.acquire('aon:b');
      const error = await locks.acquire(['aon:c', 'aon:b', 'aon:a'], { waitTimeout: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(error).toMatchObject({ resource: 'aon:b', reason: 'contention' });
      // aon:a was taken first (canonical order) and given back; aon:c was never reached.
      expect(await heldResources(['aon:a', 'aon:b', 'aon:c'])).toEqual(['aon:b']);
      expect(await testApps.redis.get(lockKey('aon:b'))).toBe(holder.token);
      expect(await testApps.redis.exists(`${lockKey('aon:b')}:queue`)).toBe(0);

      expect(await locks.tryAcquire(['aon:a', 'aon:b'])).toBeNull();
      expect(await heldResources(['aon:a', 'aon:b'])).toEqual(['aon:b']);
      await holder.release();
      const all = await locks.tryAcquire(['aon:a', 'aon:b']);
      expect(all?.resources).toEqual(['aon:a', 'aon:b']);
      await all?.release();
    });

    it('waits for a held resource and gets it on its release (FIFO hand-over), then holds them all', async () => {
      const [locks, other] = [await lockService(), await lockService()];
      const holder = await other.acquire('wait:y');
      const waiting = locks.acquire(['wait:y', 'wait:x'], { waitTimeout: 5_000 });
      await sleep(150);
      expect(await heldResources(['wait:x'])).toEqual(['wait:x']);
      await holder.release();
      const lock = await waiting;
      expect(lock.fencingTokens['wait:y']).toBeGreaterThan(holder.fencingToken);
      await lock.release();
    });

    it('fencing tokens strictly increase per resource across overlapping groups', async () => {
      const locks = await lockService();
      const groups = [['f:1', 'f:2'], ['f:2', 'f:3'], ['f:3', 'f:1'], ['f:1', 'f:2', 'f:3'], ['f:2']];
      const last: Record<string, number> = {};
      for (const group of groups) {
        const lock = await locks.acquire(group);
        for (const resource of group) {
          const token = lock.fencingTokens[resource];
          if (last[resource] !== undefined) expect(token).toBeGreaterThan(last[resource]);
          last[resource] = token;
        }
        await lock.release();
      }
    });

    it('abort while waiting leaks nothing: the held resources are given back and the queue is left', async () => {
      const [locks, other, third] = [await lockService(), await lockService(), await lockService()];
      const holder = await other.acquire('ab:z');
      const controller = new AbortController();
      const waiting = locks.acquire(['ab:z', 'ab:a'], { waitTimeout: 10_000, signal: controller.signal });
      await sleep(200);
      expect(await testApps.redis.llen(`${lockKey('ab:z')}:queue`)).toBe(1);
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ reason: 'aborted', resource: 'ab:z' });
      expect(await heldResources(['ab:a', 'ab:z'])).toEqual(['ab:z']);
      expect(await testApps.redis.llen(`${lockKey('ab:z')}:queue`)).toBe(0);
      // Nobody stale is handed ab:z on release: a newcomer gets it at once.
      await holder.release();
      const next = await third.tryAcquire(['ab:z', 'ab:a']);
      expect(next?.resources).toEqual(['ab:a', 'ab:z']);
      await next?.release();
    });

    it('an already aborted signal acquires nothing', async () => {
      const locks = await lockService();
      const controller = new AbortController();
      controller.abort();
      await expect(locks.acquire(['pre:a', 'pre:b'], { signal: controller.signal })).rejects.toMatchObject({
        reason: 'aborted',
      });
      expect(await heldResources(['pre:a', 'pre:b'])).toEqual([]);
    });

    it('rejects an empty list, too many resources and bad names, naming the field', async () => {
      const locks = await lockService();
      const fieldOf = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (e: unknown) => (e instanceof RedisOptionsError ? e.field : String(e)),
        );
      expect(await fieldOf(locks.acquire([]))).toBe('resources');
      expect(await fieldOf(locks.acquire(Array.from({ length: 65 }, (_, i) => `many:${i}`)))).toBe('resources');
      expect(await fieldOf(locks.acquire(['ok', '']))).toBe('resources[1]');
      expect(await fieldOf(locks.tryAcquire(['ok', 'x'.repeat(513)]))).toBe('resources[1]');
      expect(await fieldOf(locks.acquire(['ok', 7 as never]))).toBe('resources[1]');
      expect(await fieldOf(locks.acquire(['a', 'b'], { ttl: 10 }))).toBe('lock options.ttl');
      // 64 distinct names are accepted, and duplicates do not count against the limit.
      const many = await locks.acquire([...Array.from({ length: 64 }, (_, i) => `max:${i}`), 'max:0']);
      expect(many.resources).toHaveLength(64);
      await many.release();
    });
  });

  describe('the group handle', () => {
    it('extend() extends every lock; losing any one aborts the group signal and using() rejects with it', async () => {
      const locks = await lockService({ autoExtend: false });
      const lost = locks.using(['g:a', 'g:b'], { ttl: 5_000 }, async (signal, lock: MultiLock) => {
        await lock.extend(8_000);
        const ttls = await Promise.all(lock.resources.map((r) => testApps.redis.pttl(lockKey(r))));
        ttls.forEach((ttl) => expect(ttl).toBeGreaterThan(5_000));
        expect(locks.current('g:a')?.fencingToken).toBe(lock.fencingTokens['g:a']);
        expect(locks.current('g:b')?.fencingToken).toBe(lock.fencingTokens['g:b']);
        await testApps.redis.del(lockKey('g:b'));
        await expect(lock.extend()).rejects.toMatchObject({ code: 'E_LOCK_LOST', resource: 'g:b' });
        expect(signal.aborted).toBe(true);
        expect(signal.reason).toMatchObject({ resource: 'g:b', reason: 'taken' });
        return 'done';
      });
      await expect(lost).rejects.toMatchObject({ code: 'E_LOCK_LOST', resource: 'g:b' });
      expect(await heldResources(['g:a', 'g:b'])).toEqual([]);
    });

    it('using([...]) releases every lock when the work throws', async () => {
      const locks = await lockService();
      await expect(
        locks.using(['t:a', 't:b'], {}, () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await heldResources(['t:a', 't:b'])).toEqual([]);
    });
  });

  describe('@WithLock with several resources', () => {
    async function accounts(): Promise<AccountsService> {
      const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), AccountsModule]);
      return app.get(AccountsService);
    }

    it('transfers in both directions at once stay exact and never deadlock (key function returning an array)', async () => {
      const [a, b] = [await accounts(), await accounts()];
      const balances = `${keyPrefix}balances`;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 ? a.transfer('alice', 'bob', balances) : b.transfer('bob', 'alice', balances),
        ),
      );
      expect(await testApps.redis.hgetall(balances)).toEqual({ alice: '0', bob: '0' });
      const seen = [...a.seen, ...b.seen];
      expect(seen).toHaveLength(40);
      seen.forEach((tokens) => Object.values(tokens).forEach((t) => expect(t).toBeGreaterThan(0)));
      expect(await heldResources(['account:alice', 'account:bob'])).toEqual([]);
    });

    it('re-enters the resources the call chain holds and acquires the missing ones', async () => {
      const service = await accounts();
      const tokens = await service.audit('x', 'y');
      expect(tokens.map(Number).every((t) => t > 0)).toBe(true);
      expect(await heldResources(['account:x', 'account:y', 'account:fees'])).toEqual([]);
    });

    it('does not run the method when the key function returns an empty list', async () => {
      const service = await accounts();
      await expect(service.emptyList()).rejects.toMatchObject({ code: 'E_INVALID_LOCK_KEY' });
    });

    it('refuses a fixed key list with a bad entry when the class is defined, naming the entry', () => {
      const define = (key: unknown) => () => {
        class Invalid {
          @WithLock({ key: key as never })
          async run(): Promise<void> {}
        }
        return Invalid;
      };
      expect(define(['a', ''])).toThrow(expect.objectContaining({ field: '@WithLock on Invalid.run().key[1]' }));
      expect(define([])).toThrow(RedisOptionsError);
      expect(define(['a', 'b'])).not.toThrow();
    });
  });
});
