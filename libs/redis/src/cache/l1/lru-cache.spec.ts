import { describe, expect, it } from '@jest/globals';
import { LruCache } from './lru-cache.js';

const entry = (value: unknown, expiresAt = Number.MAX_SAFE_INTEGER) => ({
  value,
  createdAt: 0,
  freshUntil: Number.MAX_SAFE_INTEGER,
  expiresAt,
});

describe('LruCache (two generations)', () => {
  it('drops what was not used for a generation, keeps what was read', () => {
    const lru = new LruCache(4);
    lru.set('a', entry(1));
    lru.set('b', entry(2));
    expect(lru.get('a', 0)?.value).toBe(1);
    lru.set('c', entry(3));
    expect(lru.get('b', 0)).toBeUndefined();
    expect(lru.get('a', 0)?.value).toBe(1);
    expect(lru.get('c', 0)?.value).toBe(3);
  });

  it('never holds more than maxEntries', () => {
    const lru = new LruCache(10);
    for (let i = 0; i < 1_000; i++) lru.set(String(i), entry(i));
    expect(lru.size).toBeLessThanOrEqual(10);
    expect(lru.get('999', 0)?.value).toBe(999);
  });

  it('forgets entries past their expiry', () => {
    const lru = new LruCache(10);
    lru.set('a', entry(1, 100));
    expect(lru.get('a', 99)?.value).toBe(1);
    expect(lru.get('a', 100)).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('delete and clear remove entries of both generations', () => {
    const lru = new LruCache(2);
    lru.set('a', entry(1));
    lru.set('b', entry(2));
    lru.delete('b');
    expect(lru.get('b', 0)).toBeUndefined();
    lru.clear();
    expect(lru.size).toBe(0);
  });
});
