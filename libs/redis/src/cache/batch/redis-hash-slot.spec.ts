import { describe, expect, it } from '@jest/globals';
import { hashSlot } from './redis-hash-slot.js';

describe('hashSlot', () => {
  it('matches the CRC16/XMODEM check value of Redis Cluster ("123456789" → 0x31C3)', () => {
    expect(hashSlot('123456789')).toBe(0x31c3 % 16_384);
  });

  it('gives the slots CLUSTER KEYSLOT gives for plain keys', () => {
    // Answers of CLUSTER KEYSLOT on Redis 7.0.
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('bar')).toBe(5061);
    expect(hashSlot('')).toBe(0);
  });

  it('hashes only the hash tag when the key has one', () => {
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
    expect(hashSlot('app:cache:{venue:42}:g')).toBe(hashSlot('venue:42'));
  });

  it('hashes the whole key when the braces hold nothing ("{}" is not a tag)', () => {
    expect(hashSlot('foo{}{bar}')).not.toBe(hashSlot('bar'));
    expect(hashSlot('foo{}{bar}')).toBe(hashSlot('foo{}{bar}'));
  });

  it('uses the first tag only, and hashes UTF-8 bytes', () => {
    expect(hashSlot('{a}{b}')).toBe(hashSlot('a'));
    expect(hashSlot('{é}x')).toBe(hashSlot('é'));
    expect(hashSlot('é')).not.toBe(hashSlot('e'));
  });
});
