import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { CacheService, type Lock, LockService } from '@app/redis';
import { RedisClusterProcesses, eventually, sumOf, uniqueKeyPrefix } from '@test/harness';
import { shardedChannelSteps, tierOf } from '../connection/support/sharded-channels.js';

const EVICTIONS = 20;
/** The waiters' fallback poll: a wake-up must come long before it. */
const POLL_MS = 20_000;

describe('Sharded cache invalidations and lock wake-ups on a Cluster with replicas (3 masters + 3 replicas)', () => {
  const prefix = uniqueKeyPrefix('sharded-failover');
  let cluster: RedisClusterProcesses;
  let observer: Cluster;
  const apps: INestApplicationContext[] = [];
  const { replica, warm, evictAndCount } = shardedChannelSteps(() => ({ cluster, observer }), apps);

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3, 1);
    observer = new Cluster(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    await observer.ping();
  }, 90_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    observer?.disconnect();
    await cluster?.stop();
  });

  it(`${EVICTIONS} evictions with a replica per master: one shard message per SPUBLISH (to the owner's replica) vs 5 per classic PUBLISH`, async () => {
    const [shardedA, shardedB] = (
      await Promise.all([replica(true, `${prefix}s1:`), replica(true, `${prefix}s1:`)])
    ).map((app) => app.get(CacheService));
    const [classicA, classicB] = (
      await Promise.all([replica(false, `${prefix}c1:`), replica(false, `${prefix}c1:`)])
    ).map((app) => app.get(CacheService));
    const keys = Array.from({ length: EVICTIONS }, (_x, i) => `venue:${i}`);
    await warm(classicA!, classicB!, keys);
    const classic = await evictAndCount(classicA!, classicB!, keys);
    await warm(shardedA!, shardedB!, keys);
    const sharded = await evictAndCount(shardedA!, shardedB!, keys);
    process.stdout.write(
      `\n[sharded pub/sub] ${EVICTIONS} cache evictions, 3 masters + 3 replicas, per master\n  ${JSON.stringify({ classic, sharded })}\n`,
    );

    // Classic: every PUBLISH is relayed to all 5 other nodes (masters and replicas).
    expect(sumOf(classic, 'publish')).toBe(EVICTIONS);
    expect(sumOf(classic, 'busPublish')).toBe(EVICTIONS * 5);
    // Sharded: the owning master sends each message to its one replica only.
    expect(sumOf(sharded, 'spublish')).toBe(EVICTIONS);
    expect(sharded.filter((c) => c.spublish > 0)).toHaveLength(1);
    expect(sumOf(sharded, 'busPublishShard')).toBe(EVICTIONS);
    expect(sumOf(sharded, 'publish')).toBe(0);
    expect(sumOf(sharded, 'busPublish')).toBe(0);
  }, 120_000);

  it('the master owning the cache channel and a lock key is killed: once its replica took over, invalidations and wake-ups work again', async () => {
    const keyPrefix = `${prefix}f2:`;
    const [appA, appB] = await Promise.all([replica(true, keyPrefix), replica(true, keyPrefix)]);
    const [cacheA, cacheB] = [appA!.get(CacheService), appB!.get(CacheService)];
    const [locksA, locksB] = [appA!.get(LockService), appB!.get(LockService)];
    const channelSlot = (await observer.cluster('KEYSLOT', `${keyPrefix}cache:events`)) as number;
    const owner = await cluster.nodeServingSlot(channelSlot);
    let resource = '';
    for (let i = 0; resource === ''; i++) {
      const slot = (await observer.cluster('KEYSLOT', `${keyPrefix}lock:{r:${i}}`)) as number;
      if ((await cluster.nodeServingSlot(slot)) === owner) resource = `r:${i}`;
    }
    await warm(cacheA, cacheB, ['before']);

    await owner.kill();
    // Until the subscription is back, B bypasses (and emptied) its L1.
    expect(await eventually(async () => (await tierOf(cacheB, 'before')) !== 'l1', 15_000)).toBe(true);
    const promotedAfterMs = await cluster.waitUntilFailedOver(channelSlot, owner);

    // The channel now lives on the promoted replica: B fills L1 again (only done while subscribed), A's eviction
    // drops it.
    const restoring = Date.now();
    expect(
      await eventually(
        async () => {
          await cacheA.set('after', { v: 1 }).catch(() => undefined);
          return (await tierOf(cacheB, 'after')) === 'l1';
        },
        30_000,
        200,
      ),
    ).toBe(true);
    const restoredAfterMs = Date.now() - restoring;
    await cacheA.del('after');
    expect(await eventually(async () => (await tierOf(cacheB, 'after')) === 'miss', 15_000, 20)).toBe(true);

    let held: Lock | null = null;
    expect(
      await eventually(
        async () => (held = await locksA.tryAcquire(resource, { ttl: 60_000 }).catch(() => null)) !== null,
        15_000,
        200,
      ),
    ).toBe(true);
    const waiting = locksB.acquire(resource, { ttl: 60_000, waitTimeout: 50_000, retryDelay: POLL_MS, retryJitter: 0 });
    // The waiter queued and subscribed to its channel of the resource on the promoted master.
    const promoted = new Redis((await cluster.nodeServingSlot(channelSlot)).url);
    try {
      const pattern = `${keyPrefix}lock:{${resource}}:wake:*`;
      const subscribed = async () => ((await promoted.call('PUBSUB', 'SHARDCHANNELS', pattern)) as string[]).length;
      expect(await eventually(async () => (await subscribed()) === 1, 15_000, 20)).toBe(true);
    } finally {
      promoted.disconnect();
    }
    const releasedAt = Date.now();
    await held!.release();
    const lock = await waiting;
    const wokenAfterMs = Date.now() - releasedAt;
    process.stdout.write(
      `\n[sharded pub/sub] owner killed\n  ${JSON.stringify({ promotedAfterMs, restoredAfterMs, wokenAfterMs })}\n`,
    );
    expect(wokenAfterMs).toBeLessThan(POLL_MS / 2);
    await lock.release();
  }, 150_000);
});
