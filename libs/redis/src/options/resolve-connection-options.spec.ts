import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { connectionSecrets } from '../connection/describe-connection.js';
import { rotatingCredentialsOf } from '../connection/rotating-credentials.js';
import { resolveConnectionOptions } from './resolve-connection-options.js';

function errorOf(raw: Record<string, unknown>, path = ''): unknown {
  try {
    resolveConnectionOptions(raw, path, 'default', 'nest-redis');
  } catch (error) {
    return error;
  }
  throw new Error('expected resolveConnectionOptions to throw');
}

describe('resolveConnectionOptions: URL credentials', () => {
  it.each([
    ['a password holding a literal "%"', 'redis://:p%ss@127.0.0.1:6379', 'p%ss'],
    ['a password ending in "%"', 'redis://:secretpass%@127.0.0.1:6379', 'secretpass%'],
    ['a user name holding a bad escape', 'redis://us%zzer:pw@127.0.0.1:6379', 'us%zzer'],
  ])('rejects %s with a RedisOptionsError naming "url" and never the secret', (_case, url, secret) => {
    const error = errorOf({ url });
    expect(error).toBeInstanceOf(RedisOptionsError);
    const optionsError = error as RedisOptionsError;
    expect(optionsError.field).toBe('url');
    expect(optionsError.code).toBe('E_INVALID_OPTIONS');
    expect(optionsError.message).toContain('"url"');
    expect(optionsError.message).toContain('%25');
    for (const text of [
      optionsError.message,
      optionsError.stack ?? '',
      JSON.stringify(optionsError),
      String(optionsError.cause ?? ''),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('names the nested field of a named connection', () => {
    const error = errorOf({ url: 'redis://:p%ss@127.0.0.1:6379' }, 'connections.analytics');
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('connections.analytics.url');
    expect((error as RedisOptionsError).message).not.toContain('p%ss');
  });

  it('reads a percent-encoded "%" in the password as a literal one', () => {
    const resolved = resolveConnectionOptions({ url: 'redis://:p%25ss@127.0.0.1:6379' }, '', 'default', 'nest-redis');
    expect(resolved.kind === 'standalone' && resolved.options.password).toBe('p%ss');
  });
});

describe('resolveConnectionOptions: the credentials option', () => {
  const resolve = (raw: Record<string, unknown>) => resolveConnectionOptions(raw, '', 'default', 'nest-redis');

  it('turns a fixed { username, password } into plain options, overriding the URL', () => {
    const resolved = resolve({
      url: 'redis://old:old@127.0.0.1:6379',
      credentials: { username: 'app', password: 's3' },
    });
    expect(resolved.kind === 'standalone' && [resolved.options.username, resolved.options.password]).toEqual([
      'app',
      's3',
    ]);
  });

  it('gives a function its own connector, and values that print as *** until fetched and after', async () => {
    const resolved = resolve({ url: 'redis://urluser@127.0.0.1:6379', credentials: () => ({ password: 'tok-1' }) });
    if (resolved.kind !== 'standalone') throw new Error('expected a standalone connection');
    expect(resolved.options.Connector).toBeDefined();
    expect(String(resolved.options.username)).toBe('urluser');
    expect(JSON.stringify(resolved.options)).not.toContain('tok-1');
    expect(connectionSecrets(resolved)).toEqual([]);
    await rotatingCredentialsOf(resolved.options)!.refresh(1_000);
    expect(String(resolved.options.password)).toBe('tok-1');
    expect(JSON.stringify({ password: resolved.options.password })).toBe('{"password":"***"}');
    expect(connectionSecrets(resolved)).toEqual(['tok-1']);
  });

  it('puts a function into the redisOptions of every Cluster node', () => {
    const resolved = resolve({ cluster: { nodes: ['127.0.0.1:7000'] }, credentials: async () => ({ password: 'x1' }) });
    expect(resolved.kind === 'cluster' && resolved.options.redisOptions?.Connector).toBeDefined();
  });
});

describe('resolveConnectionOptions: cluster.shardedPubSub', () => {
  const resolve = (cluster: Record<string, unknown>) =>
    resolveConnectionOptions({ cluster: { nodes: ['127.0.0.1:7000'], ...cluster } }, '', 'default', 'nest-redis');

  it('is on by default, can be turned off, and is not passed to ioredis', () => {
    const on = resolve({});
    const off = resolve({ shardedPubSub: false });
    expect(on.kind === 'cluster' && on.shardedPubSub).toBe(true);
    expect(off.kind === 'cluster' && off.shardedPubSub).toBe(false);
    expect(off.kind === 'cluster' && 'shardedPubSub' in off.options).toBe(false);
  });

  it('rejects a non-boolean with a RedisOptionsError naming the field', () => {
    const error = errorOf({ cluster: { nodes: ['127.0.0.1:7000'], shardedPubSub: 'yes' } });
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('cluster.shardedPubSub');
  });
});

describe('resolveConnectionOptions: Sentinel', () => {
  const sentinels = [{ host: '127.0.0.1', port: 26379 }];

  it('turns on ioredis failoverDetector, so a demoted master is left at once, not after Sentinel reconfigures it', () => {
    const resolved = resolveConnectionOptions({ sentinels, name: 'mymaster' }, '', 'default', 'nest-redis');
    expect(resolved.kind === 'sentinel' && resolved.options.failoverDetector).toBe(true);
  });

  it('keeps failoverDetector: false when redisOptions asks for it', () => {
    const resolved = resolveConnectionOptions(
      { sentinels, name: 'mymaster', redisOptions: { failoverDetector: false } },
      '',
      'default',
      'nest-redis',
    );
    expect(resolved.kind === 'sentinel' && resolved.options.failoverDetector).toBe(false);
  });
});
