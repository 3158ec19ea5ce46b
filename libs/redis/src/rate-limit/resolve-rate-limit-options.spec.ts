import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { resolveRateLimitOptions } from './resolve-rate-limit-options.js';

describe('resolveRateLimitOptions', () => {
  it('fills every default', () => {
    const resolved = resolveRateLimitOptions({
      limits: { a: { algorithm: 'token-bucket', burst: 3, rate: 2 } },
    });
    expect(resolved.connection).toBe('default');
    expect(resolved.throttler).toEqual({ failurePolicy: 'fail-open', commandTimeout: 250 });
    expect(resolved.limits.get('a')).toEqual({
      name: 'a',
      algorithm: 'token-bucket',
      burst: 3,
      rate: 2,
      period: 1_000,
      policy: { failurePolicy: 'fail-open', commandTimeout: 250 },
    });
    expect(resolved.shortestTimeout).toBe(250);
  });

  it('lets a limit and the throttler override the module policy; the shortest timeout is kept', () => {
    const resolved = resolveRateLimitOptions({
      failurePolicy: 'fail-closed',
      commandTimeout: 500,
      throttler: { commandTimeout: 80 },
      limits: { w: { algorithm: 'sliding-window', limit: 5, window: 1_000, failurePolicy: 'fail-open' } },
    });
    expect(resolved.throttler).toEqual({ failurePolicy: 'fail-closed', commandTimeout: 80 });
    expect(resolved.limits.get('w')?.policy).toEqual({ failurePolicy: 'fail-open', commandTimeout: 500 });
    expect(resolved.shortestTimeout).toBe(80);
  });

  it.each([
    [{ connection: '' }, 'rateLimit.connection'],
    [{ limits: { x: 5 } }, 'rateLimit.limits.x'],
    [{ limits: { x: { algorithm: 'fixed-window', limit: 1.5, window: 10 } } }, 'rateLimit.limits.x.limit'],
    [{ limits: { x: { algorithm: 'token-bucket', burst: 1, rate: 1, period: 0 } } }, 'rateLimit.limits.x.period'],
    [
      { limits: { x: { algorithm: 'sliding-window', limit: 1, window: 10, commandTimeout: 0 } } },
      'rateLimit.limits.x.commandTimeout',
    ],
  ])('rejects %j naming %s', (raw, field) => {
    expect(() => resolveRateLimitOptions(raw)).toThrow(RedisOptionsError);
    try {
      resolveRateLimitOptions(raw);
    } catch (error) {
      expect((error as RedisOptionsError).field).toBe(field);
    }
  });
});
