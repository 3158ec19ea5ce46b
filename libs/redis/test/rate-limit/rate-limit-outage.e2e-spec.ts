import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { RedisInstrumentation, RedisModule } from '@app/redis';
import {
  RateLimitExceededError,
  RateLimitModule,
  RateLimiter,
  RedisThrottlerStorage,
  type RateLimitFailurePolicy,
} from '@app/redis/rate-limit';
import { RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';
import { GuardedCalls, GuardedCallsModule } from './fixtures/outage.fixtures.js';

const keyPrefix = uniqueKeyPrefix('rate-limit-outage');
const COMMAND_TIMEOUT = 200;

describe('Rate limits while Redis is down (a throwaway redis-server stopped mid-test)', () => {
  let server: RedisServerProcess;
  const apps: INestApplicationContext[] = [];
  const degradedEvents: string[] = [];

  async function boot(throttlerPolicy: RateLimitFailurePolicy) {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: server.url, keyPrefix }),
      RateLimitModule.forRoot({
        commandTimeout: COMMAND_TIMEOUT,
        throttler: { failurePolicy: throttlerPolicy },
        limits: {
          open: { algorithm: 'fixed-window', limit: 100, window: 60_000, failurePolicy: 'fail-open' },
          closed: { algorithm: 'token-bucket', burst: 100, rate: 10, failurePolicy: 'fail-closed' },
        },
      }),
      GuardedCallsModule,
    ]);
    apps.push(app);
    app.get(RedisInstrumentation).on('rate-limit.decision', (e) => {
      if (e.degraded) degradedEvents.push(`${e.kind}:${e.limit}:${e.allowed}`);
    });
    return {
      limiter: app.get(RateLimiter),
      calls: app.get(GuardedCalls),
      storage: app.get(RedisThrottlerStorage),
    };
  }

  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
  });

  it('each limit follows its policy while Redis is stopped, and all recover when it is back', async () => {
    const openThrottler = await boot('fail-open');
    const closedThrottler = await boot('fail-closed');
    const { limiter, calls } = openThrottler;

    expect(await limiter.consume('open', 'k')).toMatchObject({ allowed: true, degraded: false, remaining: 99 });
    expect(await limiter.consume('closed', 'k')).toMatchObject({ allowed: true, degraded: false });
    await expect(calls.closedCall()).resolves.toBe('ran');

    await server.stop({ keepDir: true });

    expect(await limiter.consume('open', 'k')).toMatchObject({ allowed: true, degraded: true });
    expect(await limiter.consume('closed', 'k')).toMatchObject({
      allowed: false,
      degraded: true,
      retryAfterMs: COMMAND_TIMEOUT,
    });
    await expect(calls.openCall()).resolves.toBe('ran');
    const refused = await calls.closedCall().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitExceededError);
    expect(refused).toMatchObject({ reason: 'unavailable', limit: 'closed' });
    expect(calls.runs).toBe(2);

    expect(await openThrottler.storage.increment('t', 60_000, 5, 60_000, 'default')).toMatchObject({
      isBlocked: false,
    });
    expect(await closedThrottler.storage.increment('t', 60_000, 5, 60_000, 'default')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    expect(degradedEvents).toEqual(
      expect.arrayContaining([
        'limiter:open:true',
        'limiter:closed:false',
        'throttler:default:true',
        'throttler:default:false',
      ]),
    );

    await server.restart();
    const recovered = await eventually(async () => {
      const [open, closed] = await Promise.all([limiter.consume('open', 'k'), limiter.consume('closed', 'k')]);
      return !open.degraded && !closed.degraded && closed.allowed;
    }, 15_000);
    expect(recovered).toBe(true);
    await expect(calls.closedCall()).resolves.toBe('ran');
    expect(await closedThrottler.storage.increment('t2', 60_000, 5, 60_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  }, 60_000);

  it('a paused Redis (no answer) is decided by the policy once commandTimeout passes', async () => {
    const { limiter } = await boot('fail-open');
    expect((await limiter.consume('open', 'p')).degraded).toBe(false);
    server.pause();
    try {
      const started = Date.now();
      const [open, closed] = await Promise.all([limiter.consume('open', 'p'), limiter.consume('closed', 'p')]);
      const waited = Date.now() - started;
      expect(open).toMatchObject({ allowed: true, degraded: true });
      expect(closed).toMatchObject({ allowed: false, degraded: true });
      // Bounded by the deadline (plus one check interval and scheduling), not by ioredis' own timeouts.
      expect(waited).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 5);
      expect(waited).toBeLessThan(COMMAND_TIMEOUT * 10);
    } finally {
      server.resume();
    }
    expect(await eventually(async () => !(await limiter.consume('open', 'p')).degraded, 10_000)).toBe(true);
  }, 60_000);
});
