import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockService, RedisModule } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess, eventually } from '../../../../test/harness/index.js';
import { BEHAVIOUR, streamsFixtureController } from '../transport/fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const PREFIX = 'booking:';
const NS = 'acl';

/**
 * The permissions docs/RELIABILITY.md documents, word for word: keys and channels under the prefix, plus one channel
 * rule per wildcard event pattern (PSUBSCRIBE patterns are compared literally), and only the commands the cache,
 * the locks (their Lua scripts included) and the transport send.
 */
const MINIMAL_ACL = [
  'on',
  '>app-secret-pw',
  'resetkeys',
  `~${PREFIX}*`,
  'resetchannels',
  `&${PREFIX}*`,
  `&${PREFIX}${NS}.venue.*`,
  '-@all',
  ...(
    '+ping +info +client|setname +quit ' +
    '+get +set +del +unlink +exists +pttl +pexpire +incr +time +scan ' +
    '+hget +hset +hdel +lindex +lpop +lrem +rpush +sadd +smembers ' +
    '+eval +evalsha +multi +exec ' +
    '+publish +subscribe +unsubscribe +psubscribe +punsubscribe ' +
    '+xadd +xreadgroup +xautoclaim +xclaim +xack +xpending +xlen +xinfo|groups +xinfo|consumers ' +
    '+xgroup|create +xgroup|delconsumer'
  ).split(' '),
];

describe('The library under a minimal ACL user', () => {
  let server: RedisServerProcess;
  let admin: Redis;
  let app: INestApplicationContext;
  let pubsub: INestMicroservice;
  let streams: INestMicroservice;
  let client: RedisTransportClient;
  let streamsClient: RedisTransportClient;
  let streamsServer: RedisTransportServer;
  const recorder = new Recorder();
  const userUrl = () => `redis://booking-app:app-secret-pw@127.0.0.1:${server.port}`;

  beforeAll(async () => {
    server = await RedisServerProcess.start({ args: ['--requirepass', 'admin-secret-pw'] });
    admin = new Redis(server.port, '127.0.0.1', { password: 'admin-secret-pw' });
    await admin.call('ACL', 'SETUSER', 'booking-app', ...MINIMAL_ACL);
    await admin.call('ACL', 'LOG', 'RESET');
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({
          url: userUrl(),
          keyPrefix: PREFIX,
          cache: { ttl: 60_000 },
          lock: { ttl: 5_000 },
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    const transport = { url: userUrl(), keyPrefix: PREFIX, channelPrefix: PREFIX };
    pubsub = await startMicroservice(new RedisTransportServer(transport), pubSubFixtureController(NS), recorder);
    streamsServer = new RedisTransportServer({ ...transport, mode: 'streams', streams: { group: 'acl' } });
    streams = await startMicroservice(streamsServer, streamsFixtureController(NS), recorder, false, [
      { provide: BEHAVIOUR, useValue: { running: 0, maxRunning: 0, slowMs: 0, flakyAttempts: new Map() } },
    ]);
    client = new RedisTransportClient(transport);
    streamsClient = new RedisTransportClient({ ...transport, mode: 'streams' });
    await Promise.all([client.connect(), streamsClient.connect()]);
  });

  afterAll(async () => {
    await client?.close();
    await streamsClient?.close();
    await pubsub?.close();
    await streams?.close();
    await app?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('caches: set, get, wrap with single-flight, tags, delete and clear', async () => {
    const cache = app.get(CacheService);
    await cache.set('venue:1', { name: 'Hall' }, { tags: ['venues'] });
    expect(await cache.get('venue:1')).toEqual({ name: 'Hall' });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 42;
    };
    expect(await Promise.all([cache.wrap('answer', load), cache.wrap('answer', load)])).toEqual([42, 42]);
    expect(loads).toBe(1);
    expect(await cache.invalidateTags(['venues'])).toBe(1);
    await cache.del('answer');
    expect(await cache.get('answer')).toBeUndefined();
    await cache.set('left', 1);
    expect(await cache.clear()).toBeGreaterThanOrEqual(1);
  });

  it('locks: acquire, extend, a waiter woken on release, fencing tokens', async () => {
    const locks = app.get(LockService);
    const first = await locks.acquire('slot:9');
    await first.extend(5_000);
    const waiter = locks.acquire('slot:9', { waitTimeout: 3_000 });
    setTimeout(() => void first.release(), 100);
    const second = await waiter;
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    expect(await second.release()).toBe(true);
  });

  it('transport: request/reply and events over pub/sub, durable events and dead-lettering over streams', async () => {
    expect(await lastValueFrom(client.send(`${NS}.sum`, [1, 2, 3]))).toBe(6);
    await lastValueFrom(client.emit(`${NS}.venue.updated`, { id: 1 }));
    await lastValueFrom(streamsClient.emit(`${NS}.created`, { id: 2 }));
    expect(
      await eventually(() => recorder.events.some((e) => e.pattern === 'venue.*') && recorder.events.length >= 2),
    ).toBe(true);
    await admin.xadd(streamsServer.streamKey(`${NS}.created`), '*', 'p', '{not json');
    const dead = streamsServer.deadLetterKey(`${NS}.created`);
    expect(await eventually(async () => (await admin.xlen(dead)) === 1)).toBe(true);
  });

  it('was refused nothing while doing all of the above (ACL LOG is empty)', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it.each([
    ['a command outside the list', ['FLUSHALL']],
    ['KEYS', ['KEYS', '*']],
    ['CONFIG', ['CONFIG', 'GET', 'requirepass']],
    ['SCRIPT FLUSH', ['SCRIPT', 'FLUSH']],
    ['CLIENT KILL', ['CLIENT', 'KILL', 'TYPE', 'normal']],
    ['a key outside the prefix', ['SET', 'other-app:key', '1']],
    ['a channel outside the prefix', ['PUBLISH', 'other-app:events', 'x']],
    ['a script touching a key outside the prefix', ['EVAL', "return redis.call('GET', 'other-app:key')", '0']],
  ])('refuses %s', async (_, command) => {
    const user = new Redis(server.port, '127.0.0.1', { username: 'booking-app', password: 'app-secret-pw' });
    try {
      await expect(user.call(command[0]!, ...command.slice(1))).rejects.toThrow(/NOPERM|No permissions|can't access/);
    } finally {
      user.disconnect();
    }
  });
});
