import { describe, expect, it } from '@jest/globals';
import { defaultMethodKey, hashArguments, stableStringify } from './cache-key.builder.js';

describe('cache key builder', () => {
  it('gives the same text whatever the property order, at any depth', () => {
    expect(stableStringify({ a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] } })).toBe(
      stableStringify({ b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1 }),
    );
  });

  it('tells types apart', () => {
    const texts = [
      1,
      '1',
      1n,
      true,
      'true',
      null,
      undefined,
      [1],
      { 0: 1 },
      new Date(1),
      new Set([1]),
      new Map([[1, 1]]),
    ].map((v) => stableStringify(v));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('ignores undefined properties like JSON does, so {a: 1} and {a: 1, b: undefined} share a key', () => {
    expect(stableStringify({ a: 1, b: undefined })).toBe(stableStringify({ a: 1 }));
  });

  it('inlines short argument lists and hashes long ones', () => {
    expect(hashArguments(['42'])).toBe('["42"]');
    expect(hashArguments([])).toBe('-');
    const long = hashArguments([{ text: 'x'.repeat(200) }]);
    expect(long).toMatch(/^[A-Za-z0-9_-]{27}$/);
  });

  it('default keys include class and method', () => {
    expect(defaultMethodKey('VenuesService', 'find', ['42'])).toBe('VenuesService.find:["42"]');
    expect(defaultMethodKey('VenuesService', 'find', ['42'])).not.toBe(
      defaultMethodKey('VenuesService', 'count', ['42']),
    );
  });

  it('refuses functions and symbols (give the decorator a key function instead)', () => {
    expect(() => stableStringify(() => 1)).toThrow(/key function/);
  });
});
