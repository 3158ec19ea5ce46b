import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockNotAcquiredError, LockService, RedisModule } from '@app/redis';
import { LockHealthIndicator, RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess, eventually } from '@test/harness';
import { BEHAVIOUR, streamsFixtureController } from '../transport/fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const PREFIX = 'booking:';
const NS = 'acl';
/** Short, so the test sees the consumer take over a departed consumer's entry and keep a slow one claimed. */
const CLAIM_IDLE_MS = 300;
/** Sent by the admin after the workload: once MONITOR shows it, it has shown everything before it. */
const MARKER = 'acl-spec-marker';

/**
 * The commands docs/RELIABILITY.md documents, word for word (lower case, subcommands as `command|subcommand`).
 */
const COMMANDS = (
  'ping info client|setname quit ' +
  'get set del unlink exists pttl pexpire incr time scan ' +
  'hget hset hdel lindex lpop lrem rpush sadd smembers ' +
  'eval evalsha multi exec ' +
  'publish subscribe unsubscribe psubscribe punsubscribe ' +
  'xadd xreadgroup xautoclaim xclaim xack xpending xlen xinfo|groups xinfo|consumers ' +
  'xgroup|create xgroup|delconsumer'
).split(' ');

/**
 * Permissions in the list this test cannot see used, each with the reason. Every other one must be seen in use,
 * so the list holds nothing the library does not need.
 */
const NOT_OBSERVABLE_HERE: Record<string, string> = {
  'xinfo|consumers': 'pruning of departed stream consumers: runs every 60 s and removes consumers idle for an hour',
  'xgroup|delconsumer': 'the same pruning',
};

/**
 * Keys and channels under the prefix, plus one channel rule per wildcard event pattern (PSUBSCRIBE patterns are
 * compared literally), and only the commands above.
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
  ...COMMANDS.map((command) => `+${command}`),
];

/** Sent before a connection is authenticated (HELLO by ioredis 6 for RESP3); Redis never checks them against ACL. */
const HANDSHAKE = new Set(['auth', 'hello']);

/** Commands whose first argument names a subcommand with its own ACL rule. */
const CONTAINER_COMMANDS = new Set(['client', 'xinfo', 'xgroup', 'config', 'acl', 'script', 'cluster']);

/** The ACL name of a command MONITOR printed: `get`, `xinfo|groups`. */
function aclName(args: string[]): string {
  const command = args[0]!.toLowerCase();
  return CONTAINER_COMMANDS.has(command) && args[1] ? `${command}|${args[1].toLowerCase()}` : command;
}

describe('The library under a minimal ACL user', () => {
  let server: RedisServerProcess;
  let admin: Redis;
  let monitor: Redis;
  let adminAddress: string;
  let markerSeen = false;
  /** Every command the library's connections (and the scripts they ran) sent, by ACL name. */
  const used = new Set<string>();
  let app: INestApplicationContext | undefined;
  let pubsub: INestMicroservice | undefined;
  let streams: INestMicroservice | undefined;
  let client: RedisTransportClient | undefined;
  let streamsClient: RedisTransportClient | undefined;
  let streamsServer: RedisTransportServer;
  const recorder = new Recorder();
  const behaviour = { running: 0, maxRunning: 0, slowMs: 0, flakyAttempts: new Map<string, number>() };
  const userUrl = () => `redis://booking-app:app-secret-pw@127.0.0.1:${server.port}`;

  async function closeEverything(): Promise<void> {
    await client?.close();
    await streamsClient?.close();
    await pubsub?.close();
    await streams?.close();
    await app?.close();
    client = streamsClient = pubsub = streams = app = undefined;
  }

  beforeAll(async () => {
    server = await RedisServerProcess.start({ args: ['--requirepass', 'admin-secret-pw'] });
    admin = new Redis(server.port, '127.0.0.1', { password: 'admin-secret-pw' });
    await admin.call('ACL', 'SETUSER', 'booking-app', ...MINIMAL_ACL);
    await admin.call('ACL', 'LOG', 'RESET');
    // MONITOR sees every command the server runs, those of Lua scripts included (source "lua"); the admin's own
    // connections are told apart by address.
    monitor = await admin.monitor();
    const address = async (connection: Redis) => /addr=(\S+)/.exec((await connection.client('INFO')) as string)![1];
    adminAddress = await address(admin);
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== adminAddress) used.add(aclName(args));
      else if (args[0]?.toLowerCase() === 'ping' && args[1] === MARKER) markerSeen = true;
    });

    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({
          url: userUrl(),
          keyPrefix: PREFIX,
          cache: { ttl: 60_000 },
          lock: { ttl: 5_000 },
        }),
        TerminusModule,
      ],
      providers: [RedisHealthIndicator, LockHealthIndicator, RedisTransportHealthIndicator],
    }).compile();
    app = await moduleRef.init();
    const transport = { url: userUrl(), keyPrefix: PREFIX, channelPrefix: PREFIX };
    pubsub = await startMicroservice(new RedisTransportServer(transport), pubSubFixtureController(NS), recorder);
    streamsServer = new RedisTransportServer({
      ...transport,
      mode: 'streams',
      streams: { group: 'acl', claimIdle: CLAIM_IDLE_MS, claimInterval: 100 },
    });
    streams = await startMicroservice(streamsServer, streamsFixtureController(NS), recorder, false, [
      { provide: BEHAVIOUR, useValue: behaviour },
    ]);
    client = new RedisTransportClient(transport);
    streamsClient = new RedisTransportClient({ ...transport, mode: 'streams' });
    await Promise.all([client.connect(), streamsClient.connect()]);
  });

  afterAll(async () => {
    await closeEverything();
    monitor?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it('caches: set, get, wrap with single-flight, tags, delete and clear (tag keys too)', async () => {
    const cache = app!.get(CacheService);
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
    await cache.set('left', 1, { tags: ['left-behind'] });
    expect(await cache.clear()).toBeGreaterThanOrEqual(1);
  });

  it('locks: acquire, extend, a waiter woken on release, one giving up, one after an expiry, fencing tokens', async () => {
    const locks = app!.get(LockService);
    const first = await locks.acquire('slot:9');
    await first.extend(5_000);
    await expect(locks.acquire('slot:9', { waitTimeout: 100 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await locks.tryAcquire('slot:9')).toBeNull();
    const waiter = locks.acquire('slot:9', { waitTimeout: 3_000 });
    setTimeout(() => void first.release(), 100);
    const second = await waiter;
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    expect(await second.release()).toBe(true);
    expect(await locks.using('slot:10', {}, async (_signal, lock) => lock.fencingToken)).toBeGreaterThan(0);
    // A holder that lets its lock expire: the queued waiter takes it once the ttl is over.
    const expiring = await locks.acquire('slot:11', { ttl: 300, autoExtend: false });
    const next = await locks.acquire('slot:11', { waitTimeout: 3_000 });
    expect(next.fencingToken).toBeGreaterThan(expiring.fencingToken);
    expect(await expiring.release()).toBe(false);
    expect(await next.release()).toBe(true);
  });

  it('transport: request/reply and events over pub/sub, durable events and dead-lettering over streams', async () => {
    expect(await lastValueFrom(client!.send(`${NS}.sum`, [1, 2, 3]))).toBe(6);
    await lastValueFrom(client!.emit(`${NS}.venue.updated`, { id: 1 }));
    await lastValueFrom(streamsClient!.emit(`${NS}.created`, { id: 2 }));
    expect(
      await eventually(() => recorder.events.some((e) => e.pattern === 'venue.*') && recorder.events.length >= 2),
    ).toBe(true);
    await admin.xadd(streamsServer.streamKey(`${NS}.created`), '*', 'p', '{not json');
    const dead = streamsServer.deadLetterKey(`${NS}.created`);
    expect(await eventually(async () => (await admin.xlen(dead)) === 1)).toBe(true);
  });

  it('streams: keeps a slow entry claimed and takes over one a departed consumer left pending', async () => {
    behaviour.slowMs = CLAIM_IDLE_MS * 2;
    await lastValueFrom(streamsClient!.emit(`${NS}.slow`, { i: 1 }));
    expect(await eventually(() => recorder.events.some((e) => e.pattern === 'slow'), 5_000)).toBe(true);

    // A consumer that read an entry and went away: in one transaction, so the live consumer cannot read it first.
    const key = streamsServer.streamKey(`${NS}.created`);
    const departed = admin.multi();
    // Plain JSON packet, as Nest's built-in client writes it: the server reads both.
    departed.xadd(key, '*', 'p', JSON.stringify({ pattern: `${NS}.created`, data: { id: 'orphan' } }));
    departed.xreadgroup('GROUP', 'acl', 'departed-consumer', 'COUNT', 1, 'STREAMS', key, '>');
    await departed.exec();
    expect(
      await eventually(
        () =>
          recorder.events.some(
            (e) => e.pattern === 'created' && (e.data as { data: { id?: string } }).data.id === 'orphan',
          ),
        5_000,
      ),
    ).toBe(true);
  });

  it('health indicators for Redis, locks and the streams transport are up under the same user', async () => {
    const redis = await app!.get(RedisHealthIndicator).isHealthy('redis');
    const lock = await app!.get(LockHealthIndicator).isHealthy('lock');
    const transport = await app!.get(RedisTransportHealthIndicator).isHealthy('transport', streamsServer);
    expect([redis.redis.status, lock.lock.status, transport.transport.status]).toEqual(['up', 'up', 'up']);
  });

  it('was refused nothing while doing all of the above (ACL LOG is empty)', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('used every permission in the list, outside the documented rare paths, and nothing else', async () => {
    await closeEverything();
    await admin.ping(MARKER);
    expect(await eventually(() => markerSeen)).toBe(true);
    const allowed = new Set(COMMANDS);
    const outsideTheList = [...used].filter((command) => !allowed.has(command) && !HANDSHAKE.has(command));
    const unused = COMMANDS.filter((command) => !used.has(command) && !(command in NOT_OBSERVABLE_HERE));
    expect({ outsideTheList, unused }).toEqual({ outsideTheList: [], unused: [] });
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
