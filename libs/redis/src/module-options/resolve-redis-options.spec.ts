import { describe, expect, it } from '@jest/globals';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { resolveRedisOptions } from './resolve-redis-options.js';

function errorOf(raw: unknown): RedisOptionsError {
  try {
    resolveRedisOptions(raw);
  } catch (error) {
    if (error instanceof RedisOptionsError) return error;
    throw error;
  }
  throw new Error('expected resolveRedisOptions to throw');
}

describe('resolveRedisOptions', () => {
  it('defaults to redis://127.0.0.1:6379 with no prefix, fail-fast startup and a 5 s connect timeout', () => {
    const resolved = resolveRedisOptions({});
    expect(resolved.keyPrefix).toBe('');
    expect(resolved.startDegraded).toBe(false);
    const main = resolved.connections.get('default');
    expect(main).toMatchObject({
      kind: 'standalone',
      connectTimeout: 5000,
      options: { host: '127.0.0.1', port: 6379, lazyConnect: true, connectionName: 'nest-redis:default' },
    });
  });

  it('reads host, port, ACL user, password, db and TLS from the URL', () => {
    const main = resolveRedisOptions({ url: 'rediss://app%40x:p%3Ass@cache.internal:6380/2' }).connections.get(
      'default',
    );
    expect(main?.kind).toBe('standalone');
    expect(main?.options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'app@x',
      password: 'p:ss',
      db: 2,
      tls: {},
    });
  });

  it('lets explicit username/password and redisOptions refine the URL', () => {
    const main = resolveRedisOptions({
      url: 'redis://old:old@h:1',
      password: 'from-secret',
      redisOptions: { db: 3, enableAutoPipelining: true },
    }).connections.get('default');
    expect(main?.options).toMatchObject({ host: 'h', port: 1, username: 'old', password: 'from-secret', db: 3 });
    expect(main?.options).toMatchObject({ enableAutoPipelining: true });
  });

  it('builds Sentinel options from sentinels + name', () => {
    const main = resolveRedisOptions({
      sentinels: ['s1:26379', { host: 's2', port: 26380 }],
      name: 'mymaster',
    }).connections.get('default');
    expect(main?.kind).toBe('sentinel');
    expect(main?.options).toMatchObject({
      name: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    });
  });

  it('builds Cluster options with credentials on every node connection', () => {
    const main = resolveRedisOptions({
      cluster: { nodes: ['redis://n1:7000', 'n2:7001'], options: { scaleReads: 'slave' } },
      password: 'pw',
    }).connections.get('default');
    expect(main?.kind).toBe('cluster');
    if (main?.kind !== 'cluster') return;
    expect(main.nodes).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ]);
    expect(main.options).toMatchObject({ scaleReads: 'slave', lazyConnect: true });
    expect(main.options.redisOptions).toMatchObject({ password: 'pw', connectionName: 'nest-redis:default' });
  });

  it('resolves named connections with their own topology', () => {
    const resolved = resolveRedisOptions({ connections: { analytics: { url: 'redis://a:6390' } } });
    expect(resolved.connections.get('analytics')?.options).toMatchObject({
      host: 'a',
      port: 6390,
      connectionName: 'nest-redis:analytics',
    });
  });

  it.each([
    [{ keyPrefix: 'app*' }, 'keyPrefix'],
    [{ keyPrefix: 42 }, 'keyPrefix'],
    [{ connectTimeout: -5 }, 'connectTimeout'],
    [{ connectTimeout: 1.5 }, 'connectTimeout'],
    [{ url: 'http://127.0.0.1:6379' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'redis://h:6379/abc' }, 'url'],
    [{ startDegraded: 'yes' }, 'startDegraded'],
    [{ keyprefix: 'typo:' }, 'keyprefix'],
    [{ sentinels: ['s1:26379'] }, 'name'],
    [{ name: 'mymaster' }, 'sentinels'],
    [{ sentinels: [], name: 'm' }, 'sentinels'],
    [{ sentinels: ['nope'], name: 'm' }, 'sentinels[0]'],
    [{ cluster: { nodes: [] } }, 'cluster.nodes'],
    [{ cluster: { nodes: [{ host: 'h', port: 70000 }] } }, 'cluster.nodes[0].port'],
    [{ cluster: { nodes: ['h:1'] }, url: 'redis://h' }, 'cluster'],
    [{ redisOptions: { keyPrefix: 'x:' } }, 'redisOptions.keyPrefix'],
    [{ connections: { analytics: { url: 'ftp://x' } } }, 'connections.analytics.url'],
    [{ connections: { default: {} } }, 'connections.default'],
    [{ clientName: 'has space' }, 'clientName'],
  ])('rejects %j naming the field %s', (raw, field) => {
    const error = errorOf(raw);
    expect(error.field).toBe(field);
    expect(error.code).toBe('E_INVALID_OPTIONS');
    expect(error.message).toContain(`"${field}"`);
  });

  it('rejects a non-object', () => {
    expect(errorOf(undefined).field).toBe('(options)');
  });

  it('never echoes a string value, which could be a secret in the wrong field', () => {
    const error = errorOf({ url: 'redis://:hunter2-secret@h:99999999' });
    expect(error.field).toBe('url');
    expect(error.message).not.toContain('hunter2-secret');
    const other = errorOf({ keyPrefix: 'hunter2 secret*' });
    expect(other.message).not.toContain('hunter2');
  });
});
