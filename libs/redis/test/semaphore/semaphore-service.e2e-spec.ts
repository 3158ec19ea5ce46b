import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { LockLostError, RedisModule, RedisOptionsError } from '@app/redis';
import {
  type Permit,
  RedisSemaphoreModule,
  SemaphoreNotAcquiredError,
  SemaphoreService,
  WithSemaphore,
} from '@app/redis/semaphore';
import { REDIS_URL, eventually, uniqueKeyPrefix, useTestApps } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('semaphore-service');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class Payments {
  active = 0;
  peak = 0;

  @WithSemaphore({ key: (provider: string) => `provider:${provider}`, permits: 2, waitTimeout: 10_000 })
  async charge(provider: string): Promise<string> {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    await sleep(20);
    this.active--;
    return `charged at ${provider}`;
  }
}

@Module({ providers: [Payments] })
class PaymentsModule {}

describe('SemaphoreService', () => {
  const testApps = useTestApps(keyPrefix);
  const boot = () => testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RedisSemaphoreModule]);

  it('grants up to `permits` holders and refuses the next one; a release frees a permit', async () => {
    const semaphores = (await boot()).get(SemaphoreService);
    const permits = await Promise.all([1, 2, 3].map(() => semaphores.acquire('three', { permits: 3 })));
    expect(await semaphores.holders('three')).toBe(3);
    expect(await semaphores.tryAcquire('three', { permits: 3 })).toBeNull();
    await permits[0].release();
    const next = await semaphores.tryAcquire('three', { permits: 3 });
    expect(next).not.toBeNull();
    expect(next?.fencingToken).toBeGreaterThan(Math.max(...permits.map((p) => p.fencingToken)));
    await Promise.all([...permits.slice(1), next as Permit].map((p) => p.release()));
    expect(await semaphores.holders('three')).toBe(0);
  });

  it('hands permits over to waiters in FIFO order, each one from a different app', async () => {
    const holderApp = await boot();
    const holder = await holderApp.get(SemaphoreService).acquire('fifo', { permits: 1 });
    const order: number[] = [];
    const waiters: Array<Promise<void>> = [];
    for (let i = 0; i < 4; i++) {
      const semaphores = (await boot()).get(SemaphoreService);
      waiters.push(
        semaphores.using('fifo', { permits: 1, waitTimeout: 20_000, retryDelay: 2_000 }, async () => {
          order.push(i);
          await sleep(10);
        }),
      );
      // Each waiter is queued before the next one asks.
      expect(
        await eventually(async () => (await testApps.redis.llen(`${keyPrefix}semaphore:{fifo}:queue`)) === i + 1),
      ).toBe(true);
    }
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('a waiter that gives up (wait timeout or abort) leaks no permit and leaves the queue', async () => {
    const semaphores = (await boot()).get(SemaphoreService);
    const other = (await boot()).get(SemaphoreService);
    const held = await semaphores.acquire('leak', { permits: 1 });
    const timedOut = other.acquire('leak', { permits: 1, waitTimeout: 300 });
    await expect(timedOut).rejects.toBeInstanceOf(SemaphoreNotAcquiredError);
    await expect(timedOut).rejects.toMatchObject({ reason: 'contention', semaphore: 'leak', permits: 1 });
    const controller = new AbortController();
    const aborted = other.acquire('leak', { permits: 1, waitTimeout: 10_000, signal: controller.signal });
    expect(await eventually(async () => (await testApps.redis.llen(`${keyPrefix}semaphore:{leak}:queue`)) === 1)).toBe(
      true,
    );
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ reason: 'aborted' });
    expect(await testApps.redis.llen(`${keyPrefix}semaphore:{leak}:queue`)).toBe(0);
    await held.release();
    expect(await semaphores.holders('leak')).toBe(0);
    const again = await other.tryAcquire('leak', { permits: 1 });
    expect(again).not.toBeNull();
    await again?.release();
  });

  it('a permit handed to a waiter the moment it gives up is passed on, not leaked', async () => {
    const semaphores = (await boot()).get(SemaphoreService);
    for (let round = 0; round < 20; round++) {
      const held = await semaphores.acquire('race', { permits: 1 });
      const giving = semaphores.acquire('race', { permits: 1, waitTimeout: 50 + (round % 5) }).then(
        (permit) => permit.release(),
        () => undefined,
      );
      await sleep(45 + (round % 10));
      await held.release();
      await giving;
      expect(await semaphores.holders('race')).toBe(0);
    }
  });

  it('renews a permit held longer than its ttl (watchdog); a permit removed from Redis aborts its signal', async () => {
    const semaphores = (await boot()).get(SemaphoreService);
    const permit = await semaphores.acquire('renew', { permits: 2, ttl: 300 });
    await sleep(900);
    expect(permit.signal.aborted).toBe(false);
    expect(await semaphores.holders('renew')).toBe(1);
    await testApps.redis.del(`${keyPrefix}semaphore:{renew}:holders`);
    expect(await eventually(() => permit.signal.aborted, 2_000, 20)).toBe(true);
    expect(permit.signal.reason).toBeInstanceOf(LockLostError);
  });

  it('@WithSemaphore caps concurrent calls at `permits` and returns the method result', async () => {
    const app = await testApps.boot([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RedisSemaphoreModule,
      PaymentsModule,
    ]);
    const payments = app.get(Payments);
    const results = await Promise.all(Array.from({ length: 8 }, () => payments.charge('acme')));
    expect(results).toEqual(Array.from({ length: 8 }, () => 'charged at acme'));
    expect(payments.peak).toBe(2);
  });

  it('rejects invalid options naming the field', async () => {
    const semaphores = (await boot()).get(SemaphoreService);
    await expect(semaphores.acquire('x', { permits: 0 })).rejects.toMatchObject({
      field: 'semaphore options.permits',
    });
    await expect(semaphores.acquire('x', { permits: 2, ttl: -1 })).rejects.toBeInstanceOf(RedisOptionsError);
    await expect(semaphores.acquire('', { permits: 2 })).rejects.toMatchObject({ field: 'name' });
    const decorate = () => {
      class Bad {
        @WithSemaphore({ key: 'k', permits: 1.5 })
        run(): void {}
      }
      return Bad;
    };
    expect(decorate).toThrow(RedisOptionsError);
    expect(decorate).toThrow('@WithSemaphore on Bad.run().permits');
  });
});
