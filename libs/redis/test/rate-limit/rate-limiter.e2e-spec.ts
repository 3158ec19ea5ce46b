import { describe, expect, it } from '@jest/globals';
import { MethodNotWrappedError, RedisInstrumentation, RedisModule, RedisOptionsError } from '@app/redis';
import {
  RateLimitExceededError,
  RateLimitModule,
  RateLimiter,
  RATE_LIMIT_MODULE_OPTIONS,
  type RateLimitModuleOptions,
} from '@app/redis/rate-limit';
import type { FactoryProvider, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RATE_LIMIT_RESOLVED_OPTIONS } from '../../src/rate-limit/rate-limit.constants.js';
import {
  REDIS_URL,
  silentLogger,
  startupError,
  uniqueKeyPrefix,
  useTestApps,
  bootstrapTestingApp,
} from '@test/harness';
import {
  MisconfiguredModule,
  PartnerClient,
  PartnerModule,
  RatesWarmup,
  RatesWarmupModule,
} from './fixtures/partner.fixtures.js';

const keyPrefix = uniqueKeyPrefix('rate-limiter');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const limits: RateLimitModuleOptions['limits'] = {
  fixed: { algorithm: 'fixed-window', limit: 5, window: 1_000 },
  sliding: { algorithm: 'sliding-window', limit: 10, window: 1_000 },
  bucket: { algorithm: 'token-bucket', burst: 5, rate: 10, period: 1_000 },
  partner: { algorithm: 'fixed-window', limit: 3, window: 60_000 },
};

describe('RateLimiter', () => {
  const testApps = useTestApps(keyPrefix);

  async function boot(extra: RateLimitModuleOptions = {}) {
    const app = await testApps.boot([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RateLimitModule.forRoot({ limits, ...extra }),
      PartnerModule,
    ]);
    return { app, limiter: app.get(RateLimiter), partner: app.get(PartnerClient) };
  }

  describe('fixed window', () => {
    it('allows `limit` units per window from the first call, refuses the rest without counting them', async () => {
      const { limiter } = await boot();
      const results = await Promise.all(Array.from({ length: 8 }, () => limiter.consume('fixed', 'f1')));
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      expect(
        results
          .filter((r) => r.allowed)
          .map((r) => r.remaining)
          .sort(),
      ).toEqual([0, 1, 2, 3, 4]);
      const refused = results.find((r) => !r.allowed);
      expect(refused).toMatchObject({ allowed: false, remaining: 0, degraded: false });
      expect(refused?.retryAfterMs).toBeGreaterThan(0);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(1_000);
      expect(await testApps.redis.get(`${keyPrefix}rate-limit:{fixed:f1}`)).toBe('5');
      await sleep((refused?.retryAfterMs ?? 0) + 50);
      expect(await limiter.consume('fixed', 'f1')).toMatchObject({ allowed: true, remaining: 4 });
    });

    it('counts a cost in units and refuses a cost that no longer fits while smaller ones still do', async () => {
      const { limiter } = await boot();
      expect(await limiter.consume('fixed', 'f2', 4)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.consume('fixed', 'f2', 2)).toMatchObject({ allowed: false, remaining: 1 });
      expect(await limiter.consume('fixed', 'f2', 1)).toMatchObject({ allowed: true, remaining: 0 });
    });
  });

  describe('sliding window (two-window approximation)', () => {
    it('weights the previous window by its overlap: after a full window, capacity returns gradually', async () => {
      const { limiter } = await boot();
      // Start right after a window boundary of Redis' clock, so the whole burst lands in one window.
      const [, micros] = await testApps.redis.time();
      const msIntoWindow = Math.floor(Number(micros) / 1000);
      await sleep(1_000 - msIntoWindow + 20);
      const burst = await Promise.all(Array.from({ length: 12 }, () => limiter.consume('sliding', 's1')));
      expect(burst.filter((r) => r.allowed)).toHaveLength(10);
      const refused = burst.find((r) => !r.allowed);
      // The previous window's 10 calls weigh (1 - elapsed share) in the next window: not free at the boundary.
      expect(refused?.retryAfterMs).toBeGreaterThan(900);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(1_100);

      await sleep(1_000 - 20 + 500); // about half-way through the next window
      const [, at] = await testApps.redis.time();
      const elapsedShare = Math.floor(Number(at) / 1000) / 1_000;
      const half = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('sliding', 's1')));
      const allowedNow = half.filter((r) => r.allowed).length;
      // The previous window's 10 calls still weigh 10 × (1 - elapsed share): the rest of the capacity fits, never
      // all 10 (one either way for the time the burst itself takes).
      expect(allowedNow).toBeGreaterThanOrEqual(Math.floor(10 * elapsedShare) - 1);
      expect(allowedNow).toBeLessThanOrEqual(Math.ceil(10 * elapsedShare) + 1);
      expect(allowedNow).toBeLessThan(10);
    });
  });

  describe('token bucket (GCRA)', () => {
    it('allows a burst of `burst` at once, then the sustained rate', async () => {
      const { limiter } = await boot();
      const burst = await Promise.all(Array.from({ length: 8 }, () => limiter.consume('bucket', 'b1')));
      expect(burst.filter((r) => r.allowed)).toHaveLength(5);
      const refused = burst.find((r) => !r.allowed);
      // 10 per second: one token every 100 ms.
      expect(refused?.retryAfterMs).toBeGreaterThan(0);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(100);

      // Sustained: for 1.5 s, one call every 25 ms (40/s offered): about 10/s admitted, not 40/s.
      let admitted = 0;
      const started = Date.now();
      while (Date.now() - started < 1_500) {
        if ((await limiter.consume('bucket', 'b1')).allowed) admitted++;
        await sleep(25);
      }
      const elapsed = Date.now() - started;
      const expected = (elapsed / 1_000) * 10;
      expect(admitted).toBeGreaterThanOrEqual(Math.floor(expected) - 2);
      expect(admitted).toBeLessThanOrEqual(Math.ceil(expected) + 2);
    });

    it('refills fully after burst × interval: a full burst is allowed again', async () => {
      const { limiter } = await boot();
      await Promise.all(Array.from({ length: 5 }, () => limiter.consume('bucket', 'b2')));
      const empty = await limiter.consume('bucket', 'b2');
      expect(empty.allowed).toBe(false);
      expect(empty.resetMs).toBeGreaterThan(400);
      expect(empty.resetMs).toBeLessThanOrEqual(500);
      await sleep(550);
      const again = await limiter.consume('bucket', 'b2', 5);
      expect(again).toMatchObject({ allowed: true, remaining: 0 });
    });
  });

  it('rejects an unknown limit and a cost above the capacity with coded errors', async () => {
    const { limiter } = await boot();
    await expect(limiter.consume('missing', 'k')).rejects.toMatchObject({ code: 'E_UNKNOWN_RATE_LIMIT' });
    await expect(limiter.consume('fixed', 'k', 6)).rejects.toMatchObject({ code: 'E_INVALID_RATE_LIMIT_COST' });
    await expect(limiter.consume('fixed', 'k', 1.5)).rejects.toMatchObject({ code: 'E_INVALID_RATE_LIMIT_COST' });
  });

  it('reports every decision to the instrumentation (allowed / refused, not degraded)', async () => {
    const { app, limiter } = await boot();
    const seen: string[] = [];
    app.get(RedisInstrumentation).on('rate-limit.decision', (e) => seen.push(`${e.limit}:${e.allowed}:${e.degraded}`));
    await limiter.consume('partner', 'metrics', 3);
    await limiter.consume('partner', 'metrics');
    expect(seen).toEqual(['partner:true:false', 'partner:false:false']);
  });

  describe('@RateLimit', () => {
    it('runs the method while the limit allows, then throws RateLimitExceededError without running it', async () => {
      const { partner } = await boot();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => partner.fetchRates('acme')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(partner.calls).toBe(3);
      const rejection = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejection.reason).toBeInstanceOf(RateLimitExceededError);
      expect(rejection.reason).toMatchObject({
        code: 'E_RATE_LIMIT_EXCEEDED',
        limit: 'partner',
        key: 'tenant:acme',
        reason: 'limit',
      });
      expect((rejection.reason as RateLimitExceededError).retryAfterMs).toBeGreaterThan(50_000);
      // Another tenant has its own count.
      await expect(partner.fetchRates('globex')).resolves.toBe('rates of globex');
    });

    it('uses the cost function: a 2-item call then a 2-item call over a limit of 3', async () => {
      const { partner } = await boot();
      await expect(partner.bulk(['a', 'b'])).resolves.toBe(2);
      await expect(partner.bulk(['c', 'd'])).rejects.toBeInstanceOf(RateLimitExceededError);
      await expect(partner.bulk(['e'])).resolves.toBe(1);
    });

    it('shares the count between two app instances (replicas) on the same Redis', async () => {
      const [a, b] = [await boot(), await boot()];
      await a.partner.fetchRates('shared');
      await b.partner.fetchRates('shared');
      await a.partner.fetchRates('shared');
      await expect(b.partner.fetchRates('shared')).rejects.toBeInstanceOf(RateLimitExceededError);
    });

    it("works when called from another provider's onModuleInit", async () => {
      const app = await testApps.boot([
        RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
        RateLimitModule.forRoot({ limits }),
        RatesWarmupModule,
      ]);
      expect(app.get(RatesWarmup).warmed).toBe('rates of warmup');
      expect(await testApps.redis.get(`${keyPrefix}rate-limit:{partner:tenant:warmup}`)).toBe('1');
    });

    it('throws MethodNotWrappedError on an instance made with new (no module, no limiter)', () => {
      expect(() => new PartnerClient().fetchRates('acme')).toThrow(MethodNotWrappedError);
    });

    it('fails startup when the decorator names a limit that is not configured', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
          RateLimitModule.forRoot({ limits }),
          MisconfiguredModule,
        ],
      })
        .setLogger(silentLogger)
        .compile();
      // The failure comes at init, with the connection open: close what was created.
      const error = (await moduleRef.init().then(
        () => new Error('expected startup to fail'),
        (failure: unknown) => failure,
      )) as Error;
      await moduleRef.close();
      expect(error).toBeInstanceOf(RedisOptionsError);
      expect(error.message).toContain('MisconfiguredClient.call()');
      expect(error.message).toContain('"nope"');
    });
  });

  describe('options', () => {
    const invalid: Array<[string, RateLimitModuleOptions, string]> = [
      [
        'a window limit without window',
        { limits: { x: { algorithm: 'fixed-window', limit: 3 } as never } },
        'rateLimit.limits.x.window',
      ],
      ['an unknown algorithm', { limits: { x: { algorithm: 'leaky' } as never } }, 'rateLimit.limits.x.algorithm'],
      ['a zero burst', { limits: { x: { algorithm: 'token-bucket', burst: 0, rate: 1 } } }, 'rateLimit.limits.x.burst'],
      [
        'a negative rate',
        { limits: { x: { algorithm: 'token-bucket', burst: 1, rate: -1 } } },
        'rateLimit.limits.x.rate',
      ],
      ['a bad policy', { failurePolicy: 'open' as never }, 'rateLimit.failurePolicy'],
      ['a bad throttler timeout', { throttler: { commandTimeout: 0 } }, 'rateLimit.throttler.commandTimeout'],
      [
        'an unknown key',
        { limits: { x: { algorithm: 'fixed-window', limit: 1, window: 1, burst: 2 } as never } },
        'rateLimit.limits.x.burst',
      ],
      ['a typo at the top', { limit: {} } as never, 'rateLimit.limit'],
    ];
    it.each(invalid)('fail startup naming the field: %s', async (_name, options, field) => {
      const error = await startupError(() =>
        bootstrapTestingApp([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RateLimitModule.forRoot(options)]),
      );
      expect(error).toBeInstanceOf(RedisOptionsError);
      expect((error as RedisOptionsError).field).toBe(field);
      expect(error.message).toContain(field);
    });

    it('validates forRootAsync options too (its options provider runs the same resolver)', async () => {
      // Checked on the provider itself: a real startup failing there would leave RedisModule's connection open.
      const dynamic = RateLimitModule.forRootAsync({ useFactory: () => ({ commandTimeout: -5 }) });
      const providers = [
        ...(dynamic.providers ?? []),
        ...((Reflect.getMetadata('providers', RateLimitModule) as Provider[] | undefined) ?? []),
      ];
      const factoryOf = (token: string | symbol) =>
        providers.find((p): p is FactoryProvider => typeof p === 'object' && 'provide' in p && p.provide === token);
      const raw = await factoryOf(RATE_LIMIT_MODULE_OPTIONS)?.useFactory();
      expect(raw).toEqual({ commandTimeout: -5 });
      const provider = factoryOf(RATE_LIMIT_RESOLVED_OPTIONS);
      expect(() => provider?.useFactory({ commandTimeout: -5 })).toThrow(RedisOptionsError);
      try {
        provider?.useFactory({ commandTimeout: -5 });
      } catch (error) {
        expect((error as RedisOptionsError).field).toBe('rateLimit.commandTimeout');
      }
    });
  });
});
