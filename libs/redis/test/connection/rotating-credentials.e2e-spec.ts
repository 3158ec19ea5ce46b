import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockService, getRedisConnectionToken, type RedisCredentials } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { LogCapture, RedisServerProcess, bootRedisModule, eventually } from '@test/harness';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const USER = 'rotor';
const FIRST_SECRET = 'first-rotating-secret-7f3a';
const SECOND_SECRET = 'second-rotating-secret-c91e';
const NS = 'creds';

/** The `name=` of every connection the server has for `user`, sorted (duplicates kept). */
async function connectionsOf(admin: Redis, user: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => new RegExp(`(?:^| )user=${user}(?: |$)`).test(line))
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .sort();
}

describe('A credentials function (rotating passwords)', () => {
  let server: RedisServerProcess;
  let admin: Redis;
  const logs = new LogCapture();
  const recorder = new Recorder();
  let secret = FIRST_SECRET;
  let calls = 0;
  let issuerDown = false;
  const credentials = async (): Promise<RedisCredentials> => {
    calls++;
    if (issuerDown) throw new Error('token issuer unavailable');
    await new Promise((resolve) => setImmediate(resolve));
    return { username: USER, password: secret };
  };
  let app: INestApplicationContext;
  let redlockApp: INestApplicationContext;
  let microservice: INestMicroservice;
  let client: RedisTransportClient;

  beforeAll(async () => {
    server = await RedisServerProcess.start({ args: ['--requirepass', 'admin-secret-pw'] });
    admin = new Redis(server.port, '127.0.0.1', { password: 'admin-secret-pw' });
    await admin.call('ACL', 'SETUSER', USER, 'on', `>${FIRST_SECRET}`, '~*', '&*', '+@all');
    const url = `redis://127.0.0.1:${server.port}`;
    app = await bootRedisModule(
      {
        url,
        credentials,
        keyPrefix: 'creds:',
        cache: { ttl: 60_000, l1: { maxEntries: 100 } },
        lock: { ttl: 10_000 },
        connections: { side: { url, credentials } },
      },
      logs.logger,
    );
    redlockApp = await bootRedisModule(
      {
        url,
        credentials,
        keyPrefix: 'creds-redlock:',
        clientName: 'redlock-app',
        lock: { ttl: 10_000, nodes: [1, 2, 3].map((db) => ({ url: `${url}/${db}`, credentials })) },
      },
      logs.logger,
    );
    const transport = { url, credentials, keyPrefix: 'creds:', channelPrefix: 'creds:' };
    microservice = await startMicroservice(
      new RedisTransportServer(transport),
      pubSubFixtureController(NS),
      recorder,
      logs.logger,
    );
    client = new RedisTransportClient(transport);
    await client.connect();
    // Wakes the subscriber connections the cache bus and lock waiters use, so they exist before the rotation.
    await app.get(CacheService).set('warm', 1);
    const locks = app.get(LockService);
    const held = await locks.acquire('warm', { ttl: 5_000 });
    const waiter = locks.acquire('warm', { waitTimeout: 5_000 });
    setTimeout(() => void held.release(), 50);
    await (await waiter).release();
    const redlockHeld = await redlockApp.get(LockService).acquire('warm');
    const redlockWaiter = redlockApp.get(LockService).acquire('warm', { waitTimeout: 5_000 });
    setTimeout(() => void redlockHeld.release(), 50);
    await (await redlockWaiter).release();
  });

  afterAll(async () => {
    await client?.close();
    await microservice?.close();
    await redlockApp?.close();
    await app?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('authenticates every connection it opened through the function, once per connect', async () => {
    const connections = await connectionsOf(admin, USER);
    // Main and its subscriber, named, transport client and server (pub + sub each), and for the Redlock app its main
    // connection and three nodes with their subscribers.
    expect(connections).toEqual([
      'nest-redis:default',
      'nest-redis:default',
      'nest-redis:side',
      'nest-redis:transport:client-pub',
      'nest-redis:transport:client-sub',
      'nest-redis:transport:server-pub',
      'nest-redis:transport:server-sub',
      'redlock-app:default',
      ...['lock-node-0', 'lock-node-0', 'lock-node-1', 'lock-node-1', 'lock-node-2', 'lock-node-2'].map(
        (node) => `redlock-app:${node}`,
      ),
    ]);
    expect(calls).toBeGreaterThanOrEqual(connections.length);
  });

  it('reconnects everything with the rotated secret after the server drops the connections', async () => {
    const before = await connectionsOf(admin, USER);
    const callsBefore = calls;
    secret = SECOND_SECRET;
    await admin.call('ACL', 'SETUSER', USER, 'resetpass', `>${SECOND_SECRET}`);
    const killed = (await admin.call('CLIENT', 'KILL', 'USER', USER)) as number;
    expect(killed).toBe(before.length);

    // The old secret no longer opens anything: whatever is back in the list authenticated with the new one.
    expect(await eventually(async () => (await connectionsOf(admin, USER)).join() === before.join(), 15_000)).toBe(
      true,
    );
    expect(calls - callsBefore).toBeGreaterThanOrEqual(before.length);

    const cache = app.get(CacheService);
    await cache.set('after-rotation', { ok: true });
    expect(await cache.get('after-rotation')).toEqual({ ok: true });
    const side = app.get<Redis>(getRedisConnectionToken('side'));
    expect(await side.ping()).toBe('PONG');

    const locks = app.get(LockService);
    const held = await locks.acquire('after-rotation');
    const waiter = locks.acquire('after-rotation', { waitTimeout: 5_000 });
    setTimeout(() => void held.release(), 50);
    const next = await waiter;
    expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
    expect(await next.release()).toBe(true);

    const redlock = await redlockApp.get(LockService).acquire('after-rotation');
    expect(await redlock.release()).toBe(true);

    expect(await lastValueFrom(client.send(`${NS}.sum`, [1, 2, 3]))).toBe(6);
    await lastValueFrom(client.emit(`${NS}.booking.created`, { id: 7 }));
    expect(await eventually(() => recorder.events.some((e) => e.pattern === 'created'))).toBe(true);
  });

  it('goes on with the last credentials when the function fails on a reconnect, and reports it', async () => {
    const before = await connectionsOf(admin, USER);
    issuerDown = true;
    try {
      const callsBefore = calls;
      await admin.call('CLIENT', 'KILL', 'USER', USER);
      expect(await eventually(async () => (await connectionsOf(admin, USER)).join() === before.join(), 15_000)).toBe(
        true,
      );
      expect(calls).toBeGreaterThan(callsBefore);
    } finally {
      issuerDown = false;
    }
    expect(await app.get(CacheService).get('after-rotation')).toEqual({ ok: true });
    expect(logs.text).toContain('The credentials function of RedisModule option "credentials" failed');
  });

  it('never logs either secret', () => {
    // The drop was logged (so the check below looked at real connection failures), without a secret.
    expect(logs.text).toMatch(/reconnect/i);
    expect(logs.text).not.toContain(FIRST_SECRET);
    expect(logs.text).not.toContain(SECOND_SECRET);
  });
});
