import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CacheService, RedisModule } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  RedisServerProcess,
  bootstrapTestingApp,
  eventually,
  redisCluster,
  singleNode,
  uniqueKeyPrefix,
} from '@test/harness';
import { L1ServerTracking } from '../../src/cache/l1/l1-server-tracking.js';
import { LruCache } from '../../src/cache/l1/lru-cache.js';

const run = promisify(execFile);
/** How soon a foreign write must reach L1 (a message from Redis on an idle machine takes a millisecond or two). */
const INVALIDATION_BOUND_MS = 2_000;
const L1 = { maxEntries: 1_000, ttl: 60_000 };

/** How a read was served: `l1`, `redis`, or `miss`. */
async function tierOf(cache: CacheService, key: string): Promise<string> {
  return (await cache.getWithStatus(key))?.tier ?? 'miss';
}

/** Waits until `key` is served from L1 (tracking is up and the entry was kept). */
async function untilInL1(cache: CacheService, key: string): Promise<void> {
  expect(await eventually(async () => (await tierOf(cache, key)) === 'l1', 10_000)).toBe(true);
}

/** Milliseconds until `predicate` holds (polled every 5 ms), or throws past `INVALIDATION_BOUND_MS`. */
async function msUntil(predicate: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  expect(await eventually(predicate, INVALIDATION_BOUND_MS, 5)).toBe(true);
  return Date.now() - started;
}

function trackingSuite(topology: RedisTopology): void {
  describe(`L1 invalidated by Redis (l1.tracking) on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('cache-l1-tracking');
    const entryKey = (key: string) => `${prefix}cache:{${key}}`;
    let running: RunningTopology;
    let tracked: INestApplicationContext;
    let busOnly: INestApplicationContext;
    let cache: CacheService;
    let busCache: CacheService;
    let writer: Redis;

    beforeAll(async () => {
      running = await topology.start();
      const options = { ...running.connection, keyPrefix: prefix };
      tracked = await bootstrapTestingApp([
        RedisModule.forRoot({ ...options, cache: { ttl: 60_000, l1: { ...L1, tracking: true } } }),
      ]);
      busOnly = await bootstrapTestingApp([RedisModule.forRoot({ ...options, cache: { ttl: 60_000, l1: L1 } })]);
      cache = tracked.get(CacheService);
      busCache = busOnly.get(CacheService);
      // A foreign writer: a plain ioredis client (a Cluster client on a Cluster).
      writer = running.observer as Redis;
    }, 60_000);

    afterAll(async () => {
      await busOnly?.close();
      await tracked?.close();
      await running?.stop();
    });

    it('a write by a plain ioredis client drops the L1 copy (bus-only L1 does not see it)', async () => {
      await cache.set('venue:1', { v: 1 });
      await cache.set('venue:1-next', { v: 2 });
      await untilInL1(cache, 'venue:1');
      await untilInL1(busCache, 'venue:1');
      expect(await busCache.get('venue:1')).toEqual({ v: 1 });

      // Another application writes a valid entry of the same format: the bytes of 'venue:1-next'.
      const next = (await writer.getBuffer(entryKey('venue:1-next')))!;
      await writer.set(entryKey('venue:1'), next, 'PX', 60_000);

      const ms = await msUntil(async () => {
        const served = await cache.getWithStatus('venue:1');
        return served?.tier === 'redis' && (served.value as { v: number }).v === 2;
      });
      expect(ms).toBeLessThan(INVALIDATION_BOUND_MS);
      // The library's own bus only carries the library's writes: the bus-only replica still serves the old copy.
      expect(await busCache.getWithStatus('venue:1')).toMatchObject({ tier: 'l1', value: { v: 1 } });
      // And the new value is kept in L1 again.
      await untilInL1(cache, 'venue:1');
      expect(await cache.get('venue:1')).toEqual({ v: 2 });
    });

    it('a DEL from redis-cli drops the L1 copy', async () => {
      await cache.set('venue:2', { v: 1 });
      await untilInL1(cache, 'venue:2');
      const node = running.masterClients()[0]!;
      const [host, port] = [node.options.host ?? '127.0.0.1', String(node.options.port)];
      const cli = await run('redis-cli', [
        '-h',
        host,
        '-p',
        port,
        ...(topology.masters > 1 ? ['-c'] : []),
        'DEL',
        entryKey('venue:2'),
      ]);
      expect(cli.stdout.trim()).toBe('1');
      const ms = await msUntil(async () => (await cache.getWithStatus('venue:2')) === undefined);
      expect(ms).toBeLessThan(INVALIDATION_BOUND_MS);
    });

    it('a write made while a tracking connection was down is not served from L1 (L1 emptied on the loss)', async () => {
      await cache.set('venue:4', { v: 1 });
      await cache.set('venue:4-next', { v: 2 });
      await untilInL1(cache, 'venue:4');
      const next = (await writer.getBuffer(entryKey('venue:4-next')))!;
      // The master holding the entry (the others answer MOVED), and its tracking connection.
      let owner: Redis | undefined;
      for (const node of running.masterClients()) {
        if ((await node.exists(entryKey('venue:4')).catch(() => 0)) === 1) owner = node;
      }
      const list = (await owner!.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((line) => / flags=\S*t\S* /.test(line))
        .map((line) => /^id=(\d+)/.exec(line)![1]!);
      // Two trackers (this app's); the bus-only app has none. Kill both and rewrite the entry in one transaction,
      // so no invalidation of this write is ever sent.
      expect(ids.length).toBeGreaterThanOrEqual(1);
      const multi = owner!.multi();
      for (const id of ids) multi.client('KILL', 'ID', id);
      await multi.set(entryKey('venue:4'), next, 'PX', 60_000).exec();

      const ms = await msUntil(async () => {
        const served = await cache.getWithStatus('venue:4');
        return (served?.value as { v: number } | undefined)?.v === 2;
      });
      expect(ms).toBeLessThan(INVALIDATION_BOUND_MS);
      // Tracking comes back by itself and L1 is used again.
      await untilInL1(cache, 'venue:4');
      expect(await cache.get('venue:4')).toEqual({ v: 2 });
    });

    it('writes through the library itself keep working: set → L1 holds the new value after its own invalidation', async () => {
      await cache.set('venue:3', 'a');
      await untilInL1(cache, 'venue:3');
      await cache.set('venue:3', 'b');
      expect(await cache.get('venue:3')).toBe('b');
      await cache.del('venue:3');
      expect(await cache.get('venue:3')).toBeUndefined();
    });
  });
}

trackingSuite(singleNode);
trackingSuite(redisCluster);

describe('L1 with l1.tracking when the tracking connection is lost', () => {
  const prefix = uniqueKeyPrefix('cache-l1-tracking-loss');
  const entryKey = (key: string) => `${prefix}cache:{${key}}`;
  let server: RedisServerProcess;
  let admin: Redis;
  let app: INestApplicationContext;
  let cache: CacheService;

  /** Ids of the connections with tracking on (`t` among the flags of CLIENT LIST) of the app's user. */
  async function trackingClientIds(): Promise<string[]> {
    const list = (await admin.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => / flags=\S*t\S* /.test(line) && line.includes(' user=app '))
      .map((line) => /^id=(\d+)/.exec(line)![1]!);
  }

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    admin = new Redis(server.url);
    await admin.acl('SETUSER', 'app', 'on', '>app-pw', '~*', '&*', '+@all');
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        url: server.url,
        username: 'app',
        password: 'app-pw',
        keyPrefix: prefix,
        cache: { ttl: 60_000, l1: { ...L1, tracking: true }, errorLogInterval: 60_000 },
      }),
    ]);
    cache = app.get(CacheService);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('empties and bypasses L1 while tracking cannot be restored, and uses it again once it is back', async () => {
    await cache.set('room:1', { v: 1 });
    await cache.set('room:1-next', { v: 2 });
    await untilInL1(cache, 'room:1');
    const [id] = await trackingClientIds();
    expect(id).toBeDefined();

    // Tracking cannot come back (the ACL denies it), the connection is killed, and the entry is rewritten while
    // nobody reports it: an L1 kept across the loss would serve { v: 1 } from now on.
    await admin.acl('SETUSER', 'app', '-client|tracking');
    const next = (await admin.getBuffer(entryKey('room:1-next')))!;
    await admin.multi().client('KILL', 'ID', id!).set(entryKey('room:1'), next, 'PX', 60_000).exec();

    expect(
      await eventually(async () => (await cache.getWithStatus('room:1'))?.tier === 'redis', INVALIDATION_BOUND_MS, 5),
    ).toBe(true);
    // Bypassed for as long as tracking is down: every read goes to Redis and sees the foreign write.
    for (let i = 0; i < 10; i++) {
      expect(await cache.getWithStatus('room:1')).toMatchObject({ tier: 'redis', value: { v: 2 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await trackingClientIds()).toEqual([]);

    await admin.acl('SETUSER', 'app', '+client|tracking');
    await untilInL1(cache, 'room:1');
    expect(await cache.get('room:1')).toEqual({ v: 2 });
    expect(await trackingClientIds()).toHaveLength(1);
  });
});

describe('L1ServerTracking: a value read before an invalidation of its key is not kept', () => {
  const prefix = uniqueKeyPrefix('cache-l1-tracking-race');
  let server: RedisServerProcess;
  let client: Redis;
  let writer: Redis;
  let tracking: L1ServerTracking;
  const l1 = new LruCache(100);

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    client = new Redis(server.url);
    writer = new Redis(server.url);
    tracking = new L1ServerTracking(client, `${prefix}{`, l1, (key) => key.slice(prefix.length + 1, -1), 60_000);
    tracking.start();
    expect(await eventually(() => tracking.live, 5_000)).toBe(true);
  });

  afterAll(async () => {
    tracking?.stop();
    client?.disconnect();
    writer?.disconnect();
    await server?.stop();
  });

  it('mayKeep refuses a key invalidated after the token, allows other keys and later tokens', async () => {
    const before = tracking.token();
    l1.set('a', { value: 1, createdAt: 0, freshUntil: Number.MAX_SAFE_INTEGER, expiresAt: Number.MAX_SAFE_INTEGER });
    await writer.set(`${prefix}{a}`, 'x');
    expect(await eventually(() => !tracking.mayKeep('a', before), 2_000, 5)).toBe(true);
    expect(l1.get('a', Date.now())).toBeUndefined();
    expect(tracking.mayKeep('b', before)).toBe(true);
    expect(tracking.mayKeep('a', tracking.token())).toBe(true);
  });
});
