import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { resolveLeaderOptions } from './resolve-leader-options.js';

function fieldOf(raw: unknown): string | undefined {
  try {
    resolveLeaderOptions(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(RedisOptionsError);
    return (error as RedisOptionsError).field;
  }
  return undefined;
}

describe('resolveLeaderOptions', () => {
  it('defaults to one election "default" with a 10 s lease, campaigning from bootstrap', () => {
    expect(resolveLeaderOptions(undefined)).toEqual({
      elections: [{ name: 'default', ttl: 10_000 }],
      retryDelay: 100,
      retryJitter: 50,
      autoStart: true,
    });
  });

  it('takes names and { name, ttl } entries; an entry without ttl takes the module ttl', () => {
    expect(resolveLeaderOptions({ elections: ['a', { name: 'b', ttl: 3_000 }], ttl: 5_000 }).elections).toEqual([
      { name: 'a', ttl: 5_000 },
      { name: 'b', ttl: 3_000 },
    ]);
  });

  it.each([
    ['not an object', 'leader'],
    [{ ttl: 50 }, 'leader.ttl'],
    [{ ttl: '5s' }, 'leader.ttl'],
    [{ retryDelay: 0 }, 'leader.retryDelay'],
    [{ retryJitter: -1 }, 'leader.retryJitter'],
    [{ autoStart: 'yes' }, 'leader.autoStart'],
    [{ elections: [] }, 'leader.elections'],
    [{ elections: 'primary' }, 'leader.elections'],
    [{ elections: [''] }, 'leader.elections[0]'],
    [{ elections: ['a', { name: 'a' }] }, 'leader.elections[1].name'],
    [{ elections: [{ name: 'a', ttl: 10 }] }, 'leader.elections[0].ttl'],
    [{ elections: [{ name: 'a', lease: 10 }] }, 'leader.elections[0].lease'],
    [{ leaseTtl: 1_000 }, 'leader.leaseTtl'],
  ])('rejects %j naming %s', (raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });
});
