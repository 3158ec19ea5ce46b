import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { resolveRedisOptions } from '../module-options/resolve-redis-options.js';

function fieldOf(raw: unknown): string {
  try {
    resolveRedisOptions(raw);
  } catch (error) {
    if (error instanceof RedisOptionsError) return error.field;
    throw error;
  }
  throw new Error('expected resolveRedisOptions to throw');
}

describe('resolveRedisOptions › lock', () => {
  it('defaults to single-node locks: 10 s ttl and wait, auto-extension, 5 min hold bound, 1 s release timeout', () => {
    expect(resolveRedisOptions({}).lock).toEqual({
      ttl: 10_000,
      waitTimeout: 10_000,
      retryDelay: 100,
      retryJitter: 50,
      autoExtend: true,
      maxHoldTime: 300_000,
      driftFactor: 0.01,
      releaseTimeout: 1_000,
      nodes: [],
    });
  });

  it('accepts a releaseTimeout bounding how long release() waits for Redis', () => {
    expect(resolveRedisOptions({ lock: { releaseTimeout: 250 } }).lock.releaseTimeout).toBe(250);
  });

  it('resolves Redlock nodes like connections, named lock-node-<i>, with their credentials', () => {
    const { lock } = resolveRedisOptions({
      clientName: 'app',
      lock: {
        ttl: 2_000,
        nodes: ['redis://:s3cret@n1:7001', { url: 'redis://n2:7002', password: 'pw' }, 'redis://n3'],
      },
    });
    expect(lock.ttl).toBe(2_000);
    expect(lock.nodes.map((n) => n.name)).toEqual(['lock-node-0', 'lock-node-1', 'lock-node-2']);
    expect(lock.nodes[0].options).toMatchObject({
      host: 'n1',
      port: 7001,
      password: 's3cret',
      connectionName: 'app:lock-node-0',
    });
    expect(lock.nodes[1].options).toMatchObject({ host: 'n2', password: 'pw' });
  });

  it.each([
    [{ lock: 'x' }, 'lock'],
    [{ lock: { tll: 5 } }, 'lock.tll'],
    [{ lock: { ttl: 10 } }, 'lock.ttl'],
    [{ lock: { ttl: 1.5 } }, 'lock.ttl'],
    [{ lock: { waitTimeout: -1 } }, 'lock.waitTimeout'],
    [{ lock: { retryDelay: 0 } }, 'lock.retryDelay'],
    [{ lock: { autoExtend: 'yes' } }, 'lock.autoExtend'],
    [{ lock: { ttl: 5_000, maxHoldTime: 1_000 } }, 'lock.maxHoldTime'],
    [{ lock: { driftFactor: 0.7 } }, 'lock.driftFactor'],
    [{ lock: { releaseTimeout: 0 } }, 'lock.releaseTimeout'],
    [{ lock: { releaseTimeout: '1s' } }, 'lock.releaseTimeout'],
    [{ lock: { nodes: [] } }, 'lock.nodes'],
    [{ lock: { nodes: ['ftp://x'] } }, 'lock.nodes[0].url'],
    [{ lock: { nodes: [{ url: 'redis://a', sentinels: ['s:1'] }] } }, 'lock.nodes[0].sentinels'],
  ])('rejects %j naming the field %s', (raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });

  it('never echoes a node password in an error', () => {
    try {
      resolveRedisOptions({ lock: { nodes: ['redis://:hunter2@h:99999999'] } });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      return;
    }
    throw new Error('expected a RedisOptionsError');
  });
});
