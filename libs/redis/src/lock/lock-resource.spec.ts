import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { canonicalLockResources, MAX_LOCK_RESOURCES } from './lock-resource.js';

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RedisOptionsError ? error.field : String(error);
  }
}

describe('canonicalLockResources', () => {
  it('drops duplicates and sorts, so every listing of one set gives one order', () => {
    expect(canonicalLockResources(['b', 'a', 'c', 'a'])).toEqual(['a', 'b', 'c']);
    expect(canonicalLockResources(['c', 'b', 'a'])).toEqual(canonicalLockResources(['a', 'c', 'b']));
  });

  it('orders by UTF-16 code units, independent of locale', () => {
    expect(canonicalLockResources(['é', 'z', 'Z', 'a'])).toEqual(['Z', 'a', 'z', 'é']);
  });

  it('rejects a non-array or an empty list as `resources`', () => {
    expect(fieldOf(() => canonicalLockResources([]))).toBe('resources');
    expect(fieldOf(() => canonicalLockResources('a'))).toBe('resources');
  });

  it(`accepts ${MAX_LOCK_RESOURCES} distinct names (duplicates not counted) and rejects one more`, () => {
    const names = Array.from({ length: MAX_LOCK_RESOURCES }, (_, i) => `r${i}`);
    expect(canonicalLockResources([...names, 'r0', 'r1'])).toHaveLength(MAX_LOCK_RESOURCES);
    expect(fieldOf(() => canonicalLockResources([...names, 'one-more']))).toBe('resources');
  });

  it('names the bad entry: empty, too long, not a string, lone surrogate', () => {
    expect(fieldOf(() => canonicalLockResources(['a', '']))).toBe('resources[1]');
    expect(fieldOf(() => canonicalLockResources(['x'.repeat(513)]))).toBe('resources[0]');
    expect(fieldOf(() => canonicalLockResources(['a', 'b', 3]))).toBe('resources[2]');
    expect(fieldOf(() => canonicalLockResources(['\uD800']))).toBe('resources[0]');
  });
});
