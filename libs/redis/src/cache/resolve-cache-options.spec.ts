import { describe, expect, it } from '@jest/globals';
import { TaggedJsonCacheSerializer } from './serializers/tagged-json.serializer.js';
import { V8CacheSerializer } from './serializers/v8.serializer.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { resolveCacheOptions } from './resolve-cache-options.js';
import { resolveRedisOptions } from '../module-options/resolve-redis-options.js';

function fieldOf(raw: unknown): string {
  try {
    resolveCacheOptions(raw);
  } catch (error) {
    if (error instanceof RedisOptionsError) return error.field;
    throw error;
  }
  throw new Error('expected resolveCacheOptions to throw');
}

describe('resolveCacheOptions', () => {
  it('fills every default when absent', () => {
    const resolved = resolveCacheOptions(undefined);
    expect(resolved).toEqual({
      ttl: 60_000,
      staleTtl: 0,
      refreshInBackground: true,
      commandTimeout: 250,
      lockTtl: 10_000,
      lockWait: 5_000,
      l1: undefined,
      serializer: expect.any(TaggedJsonCacheSerializer),
      errorLogInterval: 10_000,
      cacheManager: true,
    });
  });

  it('keeps given values, defaults l1.ttl, accepts a custom serializer', () => {
    const serializer = new V8CacheSerializer();
    const resolved = resolveCacheOptions({
      ttl: 1_000,
      staleTtl: 2_000,
      refreshInBackground: false,
      commandTimeout: 50,
      lockTtl: 3_000,
      lockWait: 0,
      l1: { maxEntries: 10 },
      serializer,
      errorLogInterval: 0,
      cacheManager: false,
    });
    expect(resolved).toMatchObject({
      ttl: 1_000,
      staleTtl: 2_000,
      refreshInBackground: false,
      commandTimeout: 50,
      lockTtl: 3_000,
      lockWait: 0,
      l1: { maxEntries: 10, ttl: 10_000, tracking: false },
      errorLogInterval: 0,
      cacheManager: false,
    });
    expect(resolved.serializer).toBe(serializer);
  });

  it.each([
    [{ ttl: 0 }, 'cache.ttl'],
    [{ ttl: 1.5 }, 'cache.ttl'],
    [{ staleTtl: -1 }, 'cache.staleTtl'],
    [{ commandTimeout: 120_000 }, 'cache.commandTimeout'],
    [{ lockTtl: '5s' }, 'cache.lockTtl'],
    [{ lockWait: -1 }, 'cache.lockWait'],
    [{ refreshInBackground: 'yes' }, 'cache.refreshInBackground'],
    [{ l1: { maxEntries: 0 } }, 'cache.l1.maxEntries'],
    [{ l1: {} }, 'cache.l1.maxEntries'],
    [{ l1: { maxEntries: 5, ttl: 0 } }, 'cache.l1.ttl'],
    [{ l1: { maxEntries: 5, size: 1 } }, 'cache.l1.size'],
    [{ l1: { maxEntries: 5, tracking: 'yes' } }, 'cache.l1.tracking'],
    [{ serializer: JSON }, 'cache.serializer'],
    [{ cacheManager: 1 }, 'cache.cacheManager'],
    [{ tll: 5 }, 'cache.tll'],
    ['fast', 'cache'],
  ])('rejects %p naming %s', (raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });

  it('is part of resolveRedisOptions, so forRootAsync is validated too', () => {
    expect(resolveRedisOptions({ cache: { ttl: 5 } }).cache.ttl).toBe(5);
    expect(() => resolveRedisOptions({ cache: { ttl: -5 } })).toThrow(/"cache\.ttl"/);
  });
});
