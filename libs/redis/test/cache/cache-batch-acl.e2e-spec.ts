import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Keyv } from 'keyv';
import { Redis } from 'ioredis';
import { CacheService, RedisKeyspace, RedisKeyvStore, RedisModule, getRedisConnectionToken } from '@app/redis';
import type { RedisClient } from '@app/redis';
import { RedisServerProcess, bootstrapTestingApp } from '@test/harness';

const PREFIX = 'booking:';

/** The command list of the minimal ACL user documented in docs/RELIABILITY.md ("Minimal ACL"), word for word. */
const DOCUMENTED_COMMANDS = (
  'ping info client|setname quit ' +
  'get set del unlink exists pttl pexpire incr time scan ' +
  'hget hset hdel lindex lpop lrem rpush sadd smembers ' +
  'eval evalsha multi exec ' +
  'publish subscribe unsubscribe psubscribe punsubscribe ' +
  'xadd xreadgroup xautoclaim xclaim xack xpending xlen xinfo|groups xinfo|consumers ' +
  'xgroup|create xgroup|delconsumer'
).split(' ');

describe('batch reads and writes under the documented minimal ACL', () => {
  let server: RedisServerProcess;
  let admin: Redis;
  let app: INestApplicationContext;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    admin = new Redis(server.url);
    await admin.acl(
      'SETUSER',
      'booking-app',
      'on',
      '>app-secret-pw',
      'resetkeys',
      `~${PREFIX}*`,
      'resetchannels',
      `&${PREFIX}*`,
      '-@all',
      ...DOCUMENTED_COMMANDS.map((command) => `+${command}`),
    );
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        url: server.url,
        username: 'booking-app',
        password: 'app-secret-pw',
        keyPrefix: PREFIX,
        cache: { ttl: 30_000 },
      }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('CacheService getMany / setMany / delMany use only permitted commands', async () => {
    const cache = app.get(CacheService);
    const keys = ['a', 'b', '{t}:c', '{t}:d'];
    await cache.setMany(
      keys.map((key) => ({ key, value: key.toUpperCase() })),
      { tags: ['letters'] },
    );
    expect(await cache.getMany(keys)).toEqual(['A', 'B', '{T}:C', '{T}:D']);
    await cache.delMany(['a', '{t}:c']);
    expect(await cache.getMany(keys)).toEqual([undefined, 'B', undefined, '{T}:D']);
    expect((await cache.stats()['default']?.errors) ?? 0).toBe(0);
    expect(await admin.acl('LOG')).toEqual([]);
  });

  it('RedisKeyvStore batch calls, clear() and iterator() use only permitted commands', async () => {
    const store = new RedisKeyvStore(app.get<RedisClient>(getRedisConnectionToken()), app.get(RedisKeyspace));
    const keyv = new Keyv({ store, namespace: 'acl' });
    await keyv.setMany([
      { key: 'x', value: 1 },
      { key: 'y', value: 2, ttl: 10_000 },
    ]);
    expect(await keyv.getMany(['x', 'y', 'z'])).toEqual([1, 2, undefined]);
    expect(await keyv.hasMany(['x', 'z'])).toEqual([true, false]);
    const seen: unknown[] = [];
    for await (const [key] of keyv.iterator!(undefined)) seen.push(key);
    expect(seen.sort()).toEqual(['x', 'y']);
    expect(await keyv.deleteMany(['x'])).toBe(true);
    await keyv.clear();
    expect(await keyv.get('y')).toBeUndefined();
    expect(await admin.acl('LOG')).toEqual([]);
  });
});
