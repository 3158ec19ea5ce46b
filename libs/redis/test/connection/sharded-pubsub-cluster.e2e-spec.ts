import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { CacheService, type Lock, LockService, RedisOptionsError } from '@app/redis';
import {
  BUS_HEADER_BYTES,
  busBytesOut,
  ClusterBytesOut,
  type PubSubCounters,
  RedisClusterProcesses,
  bootRedisModule,
  eventually,
  pubSubCounters,
  pubSubDelta,
  sumOf,
  totalBytesOut,
  uniqueKeyPrefix,
} from '@test/harness';
import { shardedChannelSteps, tierOf } from './support/sharded-channels.js';

/** Evictions per measurement: enough that a stray message elsewhere cannot pass for the expected counts. */
const EVICTIONS = 40;
/** The waiters' fallback poll: a wake-up must come long before it. */
const POLL_MS = 20_000;

/** The measured counts, for docs/PERFORMANCE.md. */
const print = (title: string, figures: Record<string, unknown>) =>
  process.stdout.write(`\n[sharded pub/sub] ${title}\n  ${JSON.stringify(figures)}\n`);

describe("The library's own channels on a 3-master Redis Cluster (cluster.shardedPubSub)", () => {
  const prefix = uniqueKeyPrefix('sharded-own-channels');
  let cluster: RedisClusterProcesses;
  let observer: Cluster;
  let bytesOut: ClusterBytesOut;
  const apps: INestApplicationContext[] = [];
  const { replica, warm, evictAndCount } = shardedChannelSteps(() => ({ cluster, observer }), apps);

  /** The master client serving `name`'s slot (a key or a channel). */
  async function masterOf(name: string): Promise<Redis> {
    const slot = (await observer.cluster('KEYSLOT', name)) as number;
    const process = await cluster.nodeServingSlot(slot);
    return observer.nodes('master').find((node) => node.options.port === process.port)!;
  }

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    observer = new Cluster(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    await observer.ping();
    bytesOut = new ClusterBytesOut(cluster, () => observer.nodes('master'));
    await bytesOut.calibrate();
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    observer?.disconnect();
    await cluster?.stop();
  });

  it(`${EVICTIONS} evictions: sharded SPUBLISH on the cache channel's master only, nothing over the cluster bus, under a fifth of the bytes out; classic PUBLISH is relayed to the 2 other masters; the other replica's L1 is invalidated in both`, async () => {
    const shardedPrefix = `${prefix}s1:`;
    const classicPrefix = `${prefix}c1:`;
    const [shardedA, shardedB] = (await Promise.all([replica(true, shardedPrefix), replica(true, shardedPrefix)])).map(
      (app) => app.get(CacheService),
    );
    const [classicA, classicB] = (
      await Promise.all([replica(false, classicPrefix), replica(false, classicPrefix)])
    ).map((app) => app.get(CacheService));
    const keys = Array.from({ length: EVICTIONS }, (_x, i) => `venue:${i}`);

    // evictAndCount reads the counters twice: their replies are measured alone, and taken out of the bytes below.
    const baseline = await bytesOut.countersBaseline();
    let classic: PubSubCounters[] = [];
    let sharded: PubSubCounters[] = [];
    await warm(classicA!, classicB!, keys);
    const classicBytes = await bytesOut.during(async () => {
      classic = await evictAndCount(classicA!, classicB!, keys);
    }, baseline);
    await warm(shardedA!, shardedB!, keys);
    const shardedBytes = await bytesOut.during(async () => {
      sharded = await evictAndCount(shardedA!, shardedB!, keys);
    }, baseline);
    print(`${EVICTIONS} cache evictions, per master`, { classic, sharded });
    print(`${EVICTIONS} cache evictions, bytes out per master (gossip and the counters' own replies taken out)`, {
      gossipMessageBytes: bytesOut.gossipMessageBytes,
      classic: classicBytes,
      sharded: shardedBytes,
    });

    expect(sumOf(classic, 'publish')).toBe(EVICTIONS);
    expect(sumOf(classic, 'busPublish')).toBe(EVICTIONS * 2);
    expect(sumOf(classic, 'spublish')).toBe(0);

    const owner = await masterOf(`${shardedPrefix}cache:events`);
    const ownerNode = `${owner.options.host}:${owner.options.port}`;
    expect(sumOf(sharded, 'spublish')).toBe(EVICTIONS);
    expect(sharded.filter((c) => c.spublish > 0).map((c) => c.node)).toEqual([ownerNode]);
    expect(sumOf(sharded, 'publish')).toBe(0);
    expect(sumOf(sharded, 'busPublish')).toBe(0);
    // No replicas in this cluster: a shard message has nobody to be sent to over the bus.
    expect(sumOf(sharded, 'busPublishShard')).toBe(0);

    // Bytes out. Classic: every relayed message carries the bus header besides the channel and the key.
    expect(busBytesOut(classicBytes)).toBeGreaterThan(EVICTIONS * 2 * BUS_HEADER_BYTES);
    // Sharded: nothing crosses the bus, and a master not owning the channel sends no invalidation message, only
    // what the keys in its slots cost (DEL and GET replies, the L1s' tracking invalidations: under 250 bytes a key).
    for (const b of shardedBytes) expect(Math.abs(b.bus)).toBeLessThan(500);
    for (const b of shardedBytes.filter((b) => b.node !== ownerNode)) expect(b.client).toBeLessThan(EVICTIONS * 250);
    expect(totalBytesOut(shardedBytes)).toBeLessThan(totalBytesOut(classicBytes) / 5);
  }, 120_000);

  /**
   * `holder` holds `resource`, `waiter` waits for it (polling only every `POLL_MS`); once `subscribed()` says the
   * waiter listens, the holder releases. Returns the counters' growth over the hand-over and how soon it was woken.
   */
  async function handOver(
    holder: LockService,
    waiter: LockService,
    resource: string,
    subscribed: () => Promise<boolean>,
  ) {
    const held = await holder.acquire(resource, { ttl: 60_000 });
    let wokenAt = 0;
    const waiting = waiter
      .acquire(resource, { ttl: 60_000, waitTimeout: 50_000, retryDelay: POLL_MS, retryJitter: 0 })
      .then((lock: Lock) => {
        wokenAt = Date.now();
        return lock;
      });
    expect(await eventually(subscribed, 15_000, 20)).toBe(true);
    const masters = observer.nodes('master');
    const before = await pubSubCounters(masters);
    const releasedAt = Date.now();
    await held.release();
    const lock = await waiting;
    const delta = pubSubDelta(before, await pubSubCounters(masters));
    await lock.release();
    return { delta, wokenAfterMs: wokenAt - releasedAt };
  }

  it(`a lock waiter is woken by the release long before its ${POLL_MS} ms poll, by one SPUBLISH on the lock key's master (classic: a PUBLISH relayed to the 2 other masters), and its channel is unsubscribed after`, async () => {
    const keyPrefix = `${prefix}l2:`;
    const classicPrefix = `${prefix}l2c:`;
    const [holder, waiter] = (await Promise.all([replica(true, keyPrefix), replica(true, keyPrefix)])).map((app) =>
      app.get(LockService),
    );
    const [classicHolder, classicWaiter] = (
      await Promise.all([replica(false, classicPrefix), replica(false, classicPrefix)])
    ).map((app) => app.get(LockService));
    const lockKey = `${keyPrefix}lock:{order:1}`;
    const master = await masterOf(lockKey);
    const wakeChannels = () => master.call('PUBSUB', 'SHARDCHANNELS', `${lockKey}:wake:*`) as Promise<string[]>;

    // Classic: the waiter's one channel per process, subscribed on whichever node its subscriber connection chose.
    const classic = await handOver(classicHolder!, classicWaiter!, 'order:1', async () => {
      const perNode = await Promise.all(
        observer.nodes('master').map((node) => node.call('PUBSUB', 'CHANNELS', `${classicPrefix}lock:wake:*`)),
      );
      return perNode.flat().length === 1;
    });
    // Sharded: the waiter subscribed to its channel of this resource, on the lock's master.
    const sharded = await handOver(holder!, waiter!, 'order:1', async () => (await wakeChannels()).length === 1);
    print('one lock hand-over, per master', { classic, sharded });

    expect(sumOf(classic.delta, 'publish')).toBe(1);
    expect(sumOf(classic.delta, 'busPublish')).toBe(2);
    expect(classic.wokenAfterMs).toBeLessThan(POLL_MS / 2);
    expect(sharded.wokenAfterMs).toBeLessThan(POLL_MS / 2);
    expect(sumOf(sharded.delta, 'spublish')).toBe(1);
    expect(sharded.delta.filter((c) => c.spublish > 0).map((c) => c.node)).toEqual([
      `${master.options.host}:${master.options.port}`,
    ]);
    expect(sumOf(sharded.delta, 'publish')).toBe(0);
    expect(sumOf(sharded.delta, 'busPublish')).toBe(0);
    // Nobody waits on the resource any more: its channel goes once the linger ends.
    expect(await eventually(async () => (await wakeChannels()).length === 0, 20_000, 100)).toBe(true);
  }, 90_000);

  it('after the master owning the cache channel and the lock key restarts, invalidations and wake-ups work again', async () => {
    const keyPrefix = `${prefix}r3:`;
    const [appA, appB] = await Promise.all([replica(true, keyPrefix), replica(true, keyPrefix)]);
    const [cacheA, cacheB] = [appA!.get(CacheService), appB!.get(CacheService)];
    const [locksA, locksB] = [appA!.get(LockService), appB!.get(LockService)];
    const channel = `${keyPrefix}cache:events`;
    // A resource whose lock key lives on the channel's master, so one restart tests both.
    const channelSlot = (await observer.cluster('KEYSLOT', channel)) as number;
    let resource = '';
    for (let i = 0; resource === ''; i++) {
      const slot = (await observer.cluster('KEYSLOT', `${keyPrefix}lock:{r:${i}}`)) as number;
      if ((await cluster.nodeServingSlot(slot)) === (await cluster.nodeServingSlot(channelSlot))) resource = `r:${i}`;
    }
    await warm(cacheA, cacheB, ['before']);

    const node = await cluster.nodeServingSlot(channelSlot);
    await node.stop({ keepDir: true });
    // While the bus is down, B bypasses (and emptied) its L1: no stale read can come from it.
    expect(await eventually(async () => (await tierOf(cacheB, 'before').catch(() => 'error')) !== 'l1', 15_000)).toBe(
      true,
    );
    await node.restart();
    await cluster.waitUntilOk();

    // The bus is back: B fills L1 again (only done while subscribed) and A's eviction drops it.
    await eventually(
      async () => {
        await cacheA.set('after', { v: 1 }).catch(() => undefined);
        return (await tierOf(cacheB, 'after').catch(() => 'error')) === 'l1';
      },
      30_000,
      200,
    );
    expect(await tierOf(cacheB, 'after')).toBe('l1');
    await cacheA.del('after');
    expect(await eventually(async () => (await tierOf(cacheB, 'after')) === 'miss', 15_000, 20)).toBe(true);

    // Wake-ups too: a waiter on a lock of the restarted master is woken by the release, not by its poll.
    let held: Lock | null = null;
    expect(
      await eventually(
        async () => (held = await locksA.tryAcquire(resource, { ttl: 60_000 }).catch(() => null)) !== null,
        15_000,
        200,
      ),
    ).toBe(true);
    const waiting = locksB.acquire(resource, { ttl: 60_000, waitTimeout: 50_000, retryDelay: POLL_MS, retryJitter: 0 });
    // A client of its own: the observer's list of masters may predate the restart.
    const master = new Redis(node.url);
    try {
      const wakeChannels = () =>
        master.call('PUBSUB', 'SHARDCHANNELS', `${keyPrefix}lock:{${resource}}:wake:*`) as Promise<string[]>;
      expect(await eventually(async () => (await wakeChannels()).length === 1, 15_000, 20)).toBe(true);
    } finally {
      master.disconnect();
    }
    const releasedAt = Date.now();
    await held!.release();
    const lock = await waiting;
    expect(Date.now() - releasedAt).toBeLessThan(POLL_MS / 2);
    await lock.release();
  }, 120_000);

  it('rejects a non-boolean cluster.shardedPubSub at startup, naming the field', async () => {
    await expect(
      bootRedisModule({ cluster: { nodes: cluster.addresses, shardedPubSub: 'yes' as unknown as boolean } }),
    ).rejects.toMatchObject({ name: RedisOptionsError.name, field: 'cluster.shardedPubSub' });
  });
});
