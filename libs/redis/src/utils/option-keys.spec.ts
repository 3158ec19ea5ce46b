import { describe, expect, it } from '@jest/globals';
import { optionKeys } from './option-keys.js';

interface Sample {
  a?: number;
  b: string;
}

describe('optionKeys()', () => {
  it('returns the listed keys as given', () => {
    expect(optionKeys<Sample>()(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('fails the build on a key the type lacks or a key left out (checked by tsc over this file)', () => {
    // @ts-expect-error 'c' is not a key of Sample
    const unknownKey = optionKeys<Sample>()(['a', 'b', 'c']);
    // @ts-expect-error 'b' is left out
    const missingKey = optionKeys<Sample>()(['a']);
    expect([unknownKey, missingKey]).toEqual([['a', 'b', 'c'], ['a']]);
  });
});
