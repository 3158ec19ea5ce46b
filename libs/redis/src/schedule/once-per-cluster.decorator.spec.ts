import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { OncePerClusterOptions } from './once-per-cluster-options.interface.js';
import { OncePerCluster } from './once-per-cluster.decorator.js';

function decorate(options: unknown): () => unknown {
  return () => {
    class Jobs {
      @OncePerCluster(options as OncePerClusterOptions)
      run(): void {}
    }
    return Jobs;
  };
}

describe('@OncePerCluster options', () => {
  it.each([
    [{ name: '' }, 'name'],
    [{ period: 0 }, 'period'],
    [{ period: 1.5 }, 'period'],
    [{ maxClockSkew: -1 }, 'maxClockSkew'],
    [{ ttl: 10 }, 'ttl'],
    [{ ttl: 5_000, maxHoldTime: 1_000 }, 'maxHoldTime'],
    [{ ttlMs: 5_000 }, 'ttlMs'],
  ])('rejects %j at class definition, naming the field', (options, field) => {
    expect(decorate(options)).toThrow(RedisOptionsError);
    try {
      decorate(options)();
    } catch (error) {
      expect((error as RedisOptionsError).field).toBe(`@OncePerCluster on Jobs.run().${field}`);
    }
  });

  it('accepts no options and every documented field', () => {
    expect(decorate(undefined)).not.toThrow();
    expect(
      decorate({ name: 'reaper', period: 60_000, maxClockSkew: 2_000, ttl: 5_000, maxHoldTime: 60_000 }),
    ).not.toThrow();
  });
});
