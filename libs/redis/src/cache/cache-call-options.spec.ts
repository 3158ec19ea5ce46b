import { describe, expect, it } from '@jest/globals';
import { resolveCacheOptions } from './resolve-cache-options.js';
import { resolveCallOptions } from './cache-call-options.js';

describe('resolveCallOptions', () => {
  const defaults = resolveCacheOptions({ ttl: 30_000, staleTtl: 5_000 });

  it('takes ttl and staleTtl from the module defaults when the call gives none, named after the default name', () => {
    expect(resolveCallOptions(defaults, {}, 'VenuesService.findVenue')).toEqual({
      name: 'VenuesService.findVenue',
      ttl: 30_000,
      staleTtl: 5_000,
      unless: undefined,
    });
  });

  it("names the call 'default' when neither the call nor the caller gives a name", () => {
    expect(resolveCallOptions(defaults, {}).name).toBe('default');
  });

  it('keeps what the call gives, a staleTtl of 0 included', () => {
    const unless = (value: number) => value < 0;
    expect(resolveCallOptions(defaults, { ttl: 1_000, staleTtl: 0, name: 'venues', unless }, 'ignored')).toEqual({
      name: 'venues',
      ttl: 1_000,
      staleTtl: 0,
      unless,
    });
  });
});
