import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../../errors/redis-options.error.js';
import type { ResolvedRedisCoreOptions } from '../../connection/resolved-redis-connection.interface.js';
import { resolveConnectionOptions } from '../../options/resolve-connection-options.js';
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
      shardedPubSub: false,
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
      { moduleOptions: moduleOptions as unknown as ResolvedRedisCoreOptions },
      'server',
    );
    expect(resolved.connection).toBe(connection);
    expect(resolved.keyPrefix).toBe('booking:');
    expect(
      fieldOf(() =>
        resolveTransportOptions(
          { moduleOptions: moduleOptions as unknown as ResolvedRedisCoreOptions, connectionName: 'nope' },
          'server',
        ),
      ),
    ).toBe('connectionName');
    expect(
      fieldOf(() =>
        resolveTransportOptions(
          { moduleOptions: moduleOptions as unknown as ResolvedRedisCoreOptions, url: 'redis://x' },
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
    [{ shardedPubSub: 'yes' }, 'shardedPubSub'],
    [{ shardedPubSub: true, wildcards: true }, 'shardedPubSub'],
    [{ cluster: { nodes: ['127.0.0.1:7000'], shardedPubSub: true } }, 'cluster.shardedPubSub'],
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

  describe('the options of Nest’s built-in Transport.REDIS', () => {
    function messageOf(fn: () => unknown): string {
      try {
        fn();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    }

    it('honours host and port as the connection address, with wildcards, serializer and deserializer', () => {
      const serializer = { serialize: (value: unknown) => value };
      const deserializer = { deserialize: (value: unknown) => value };
      const resolved = resolveTransportOptions(
        { host: 'redis.internal', port: 6380, wildcards: true, serializer, deserializer },
        'server',
      );
      expect(resolved.connection).toMatchObject({
        kind: 'standalone',
        options: { host: 'redis.internal', port: 6380 },
      });
      expect(resolved).toMatchObject({ wildcards: true, serializer, deserializer });
      expect(resolveTransportOptions({ port: 6390 }, 'client').connection.options).toMatchObject({
        host: '127.0.0.1',
        port: 6390,
      });
    });

    it('honours returnBuffers on a client and rejects it on a server', () => {
      expect(resolveTransportOptions({ returnBuffers: true }, 'client').returnBuffers).toBe(true);
      expect(resolveTransportOptions({}, 'client').returnBuffers).toBe(false);
      expect(fieldOf(() => resolveTransportOptions({ returnBuffers: true }, 'server'))).toBe('returnBuffers');
      expect(fieldOf(() => resolveTransportOptions({ returnBuffers: 'yes' }, 'client'))).toBe('returnBuffers');
    });

    it.each([
      [{ retryAttempts: 5 }, 'retryAttempts', /reconnects forever.*reconnectMaxDelay/],
      [{ retryDelay: 1_000 }, 'retryDelay', /"reconnectDelay".*"reconnectMaxDelay"/],
      [{ clientInfoTag: 'app' }, 'clientInfoTag', /"redisOptions\.clientInfoTag"/],
      [{ tls: {} }, 'tls', /"redisOptions\.tls"/],
      [{ db: 2 }, 'db', /"redisOptions\.db"/],
      [{ host: 'h', url: 'redis://x' }, 'host', /cannot be combined with "url"/],
      [{ port: 70_000 }, 'port', /port number/],
      [{ host: '' }, 'host', /host name/],
    ])('rejects %j at startup naming "%s" and what to write instead', (options, field, replacement) => {
      expect(fieldOf(() => resolveTransportOptions(options, 'client'))).toBe(field);
      const message = messageOf(() => resolveTransportOptions(options, 'client'));
      expect(message).toContain(`"${field}"`);
      expect(message).toMatch(replacement);
    });
  });
});
