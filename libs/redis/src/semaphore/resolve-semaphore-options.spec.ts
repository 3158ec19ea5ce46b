import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { LOCK_DEFAULTS } from '../lock/resolve-lock-options.js';
import { resolveSemaphoreOptions } from './resolve-semaphore-options.js';

const path = 'semaphore options';

function fieldOf(raw: unknown): string | undefined {
  try {
    resolveSemaphoreOptions(raw, path, LOCK_DEFAULTS);
  } catch (error) {
    expect(error).toBeInstanceOf(RedisOptionsError);
    return (error as RedisOptionsError).field;
  }
  return undefined;
}

describe('resolveSemaphoreOptions', () => {
  it('takes permits and the lock defaults for every timing not given', () => {
    expect(resolveSemaphoreOptions({ permits: 3, ttl: 2_000 }, path, LOCK_DEFAULTS)).toEqual({
      permits: 3,
      ttl: 2_000,
      waitTimeout: LOCK_DEFAULTS.waitTimeout,
      retryDelay: LOCK_DEFAULTS.retryDelay,
      retryJitter: LOCK_DEFAULTS.retryJitter,
      autoExtend: LOCK_DEFAULTS.autoExtend,
      maxHoldTime: LOCK_DEFAULTS.maxHoldTime,
    });
  });

  it('keeps the caller signal', () => {
    const signal = new AbortController().signal;
    expect(resolveSemaphoreOptions({ permits: 1, signal }, path, LOCK_DEFAULTS).signal).toBe(signal);
  });

  it.each([
    [undefined, path],
    [{}, `${path}.permits`],
    [{ permits: 0 }, `${path}.permits`],
    [{ permits: 2.5 }, `${path}.permits`],
    [{ permits: '3' }, `${path}.permits`],
    [{ permits: 100_001 }, `${path}.permits`],
    [{ permits: 3, ttl: 10 }, `${path}.ttl`],
    [{ permits: 3, waitTimeout: -1 }, `${path}.waitTimeout`],
    [{ permits: 3, ttl: 5_000, maxHoldTime: 1_000 }, `${path}.maxHoldTime`],
    [{ permits: 3, autoExtend: 'yes' }, `${path}.autoExtend`],
    [{ permits: 3, signal: 'stop' }, `${path}.signal`],
    [{ permits: 3, permit: 3 }, `${path}.permit`],
  ])('rejects %j naming %s', (raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });
});
