import { describe, expect, it } from '@jest/globals';
import {
  LockNotAcquiredError,
  LockService,
  MethodNotWrappedError,
  RedisModule,
  RedisOptionsError,
  WithLock,
} from '@app/redis';
import { REDIS_URL, freePort, uniqueKeyPrefix, useTestApps } from '@test/harness';
import { SlotsModule, SlotsService, WarmupModule, WarmupService } from './fixtures/with-lock.fixtures.js';

const keyPrefix = uniqueKeyPrefix('with-lock');

describe('@WithLock', () => {
  const testApps = useTestApps(keyPrefix);

  async function slots(url = REDIS_URL, extra: Record<string, unknown> = {}): Promise<SlotsService> {
    const app = await testApps.boot([RedisModule.forRoot({ url, keyPrefix, ...extra }), SlotsModule]);
    return app.get(SlotsService);
  }

  it('serialises concurrent calls on the same key: 40 read-modify-writes, counter exact', async () => {
    const [a, b] = [await slots(), await slots()];
    const counterKey = `${keyPrefix}slot-counter`;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).book('7', counterKey)));
    expect(Number(await testApps.redis.get(counterKey))).toBe(40);
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await testApps.redis.exists(`${keyPrefix}lock:{slot:7}`)).toBe(0);
  });

  it('exposes the current lock (resource, fencing token, signal) inside the method', async () => {
    const service = await slots();
    await service.book('8', `${keyPrefix}slot-8`);
    expect(service.seenLock).toMatchObject({ resource: 'slot:8' });
    expect(service.seenLock?.fencingToken).toBeGreaterThan(0);
    expect(service.seenLock?.signal.aborted).toBe(false);
    expect(service.locks.current()).toBeUndefined();
  });

  it('releases the lock when the method throws, and rethrows', async () => {
    const service = await slots();
    await expect(service.throws()).rejects.toThrow('boom');
    expect(service.calls).toEqual(['throws']);
    expect(await testApps.redis.exists(`${keyPrefix}lock:{throws}`)).toBe(0);
  });

  it('throws LockNotAcquiredError carrying the resource and does not run the method when the lock is busy', async () => {
    const service = await slots();
    const holder = await service.locks.acquire('fixed');
    const error = await service.fixed().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockNotAcquiredError);
    expect(error).toMatchObject({ resource: 'fixed', reason: 'contention' });
    expect(service.calls).toEqual([]);
    await holder.release();
    expect(await service.fixed()).toBe('done');
  });

  it('re-enters a lock the call chain already holds on the same key instead of deadlocking', async () => {
    const service = await slots();
    expect(await service.outer('1')).toEqual(['outer:1', 'false']);
  });

  it('fails closed when Redis is unreachable: the method does not run', async () => {
    const port = await freePort();
    const service = await slots(`redis://127.0.0.1:${port}`, { startDegraded: true, connectTimeout: 200 });
    const error = await service.fixed().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockNotAcquiredError);
    expect(error).toMatchObject({ reason: 'unreachable', resource: 'fixed' });
    expect(service.calls).toEqual([]);
  });

  it('does not run the method when the key function returns no resource name', async () => {
    const service = await slots();
    await expect(service.emptyKey()).rejects.toMatchObject({ code: 'E_INVALID_LOCK_KEY' });
    expect(service.calls).toEqual([]);
  });

  it('throws MethodNotWrappedError on an instance the module did not create (fails closed)', async () => {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix })]);
    const orphan = new SlotsService(app.get(LockService), testApps.redis);
    await expect(async () => orphan.fixed()).rejects.toBeInstanceOf(MethodNotWrappedError);
    expect(orphan.calls).toEqual([]);
  });

  it("works when called from another provider's onModuleInit", async () => {
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), WarmupModule]);
    expect(app.get(WarmupService).result).toBe('done');
  });

  it('refuses invalid options when the class is defined', () => {
    const define = (options: unknown) => () => {
      class Invalid {
        @WithLock(options as never)
        async run(): Promise<void> {}
      }
      return Invalid;
    };
    expect(define({})).toThrow(RedisOptionsError);
    expect(define({ key: 'k', ttl: -1 })).toThrow(RedisOptionsError);
    expect(define({ key: 'k', waitTimeot: 5 })).toThrow(RedisOptionsError);
  });
});
