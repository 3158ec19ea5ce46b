import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import { resolveConnectionOptions } from '../options/resolve-connection-options.js';
import { resolveTransportOptions } from './resolve-transport-options.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof RedisOptionsError) return error.field;
    throw error;
  }
  return undefined;
}

describe('resolveTransportOptions', () => {
  it('defaults to pub/sub on redis://127.0.0.1:6379 with the documented defaults', () => {
    const resolved = resolveTransportOptions({}, 'client');
    expect(resolved).toMatchObject({
      mode: 'pubsub',
      keyPrefix: '',
      channelPrefix: '',
      wildcards: 'auto',
      sendTimeout: 5_000,
      emitTimeout: 10_000,
      reconnectDelay: 100,
      reconnectMaxDelay: 5_000,
      shutdownTimeout: 10_000,
      connection: { kind: 'standalone', options: { host: '127.0.0.1', port: 6379 } },
      streams: { maxLen: 100_000, maxAttempts: 5, claimIdle: 30_000, startId: '0' },
    });
    expect(resolved.streams.concurrencyOf('x')).toBe(16);
  });

  it('accepts the same connection shapes as RedisModule: url, sentinels + name, cluster', () => {
    expect(resolveTransportOptions({ url: 'redis://:pw@h:7000/2' }, 'client').connection).toMatchObject({
      kind: 'standalone',
      options: { host: 'h', port: 7000, db: 2, password: 'pw' },
    });
    expect(resolveTransportOptions({ sentinels: ['s:26379'], name: 'mymaster' }, 'client').connection.kind).toBe(
      'sentinel',
    );
    expect(resolveTransportOptions({ cluster: { nodes: ['a:7000'] } }, 'client').connection.kind).toBe('cluster');
  });

  it('reuses a RedisModule connection and its keyPrefix from moduleOptions', () => {
    const connection = resolveConnectionOptions({ url: 'redis://m:6380' }, '', 'default', 'app');
    const moduleOptions = { keyPrefix: 'booking:', connections: new Map([['default', connection]]) };
    const resolved = resolveTransportOptions(
      { moduleOptions: moduleOptions as unknown as ResolvedRedisOptions },
      'server',
    );
    expect(resolved.connection).toBe(connection);
    expect(resolved.keyPrefix).toBe('booking:');
    expect(
      fieldOf(() =>
        resolveTransportOptions(
          { moduleOptions: moduleOptions as unknown as ResolvedRedisOptions, connectionName: 'nope' },
          'server',
        ),
      ),
    ).toBe('connectionName');
    expect(
      fieldOf(() =>
        resolveTransportOptions(
          { moduleOptions: moduleOptions as unknown as ResolvedRedisOptions, url: 'redis://x' },
          'server',
        ),
      ),
    ).toBe('moduleOptions');
  });

  it('resolves per-pattern concurrency with a "*" fallback', () => {
    const { streams } = resolveTransportOptions({ streams: { concurrency: { a: 2, '*': 5 } } }, 'client');
    expect(streams.concurrencyOf('a')).toBe(2);
    expect(streams.concurrencyOf('b')).toBe(5);
  });

  it.each([
    [{ mode: 'kafka' }, 'mode'],
    [{ sendTimeout: 0 }, 'sendTimeout'],
    [{ sendTimeout: 1.5 }, 'sendTimeout'],
    [{ emitTimeout: 0 }, 'emitTimeout'],
    [{ emitTimeout: '1s' }, 'emitTimeout'],
    [{ keyPrefix: 'a*' }, 'keyPrefix'],
    [{ channelPrefix: 'x?' }, 'channelPrefix'],
    [{ wildcards: 'yes' }, 'wildcards'],
    [{ reconnectDelay: 1_000, reconnectMaxDelay: 10 }, 'reconnectMaxDelay'],
    [{ codec: { encode: () => '' } }, 'codec'],
    [{ streams: { maxAttempts: 0 } }, 'streams.maxAttempts'],
    [{ streams: { concurrency: { a: 0 } } }, 'streams.concurrency.a'],
    [{ streams: { startId: '>' } }, 'streams.startId'],
    [{ streams: { grup: 'x' } }, 'streams.grup'],
    [{ sendTimeut: 5 }, 'sendTimeut'],
    [{ url: 'http://x' }, 'url'],
    [{ connectionName: 'x' }, 'connectionName'],
  ])('rejects %j with a RedisOptionsError naming "%s"', (options, field) => {
    expect(fieldOf(() => resolveTransportOptions(options, 'client'))).toBe(field);
  });

  it('requires streams.group for a server in streams mode only', () => {
    expect(fieldOf(() => resolveTransportOptions({ mode: 'streams' }, 'server'))).toBe('streams.group');
    expect(() => resolveTransportOptions({ mode: 'streams' }, 'client')).not.toThrow();
  });

  it('never echoes a password in its messages', () => {
    let message = '';
    try {
      resolveTransportOptions({ url: 'redis://:s3cret@h:6379', sendTimeout: 's3cret' }, 'client');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/sendTimeout/);
    expect(message).not.toContain('s3cret');
  });
});
