import { expect } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { type CacheService, RedisModule } from '@app/redis';
import {
  type RedisClusterProcesses,
  bootstrapTestingApp,
  eventually,
  pubSubCounters,
  pubSubDelta,
} from '@test/harness';

/** How a read was served: `l1`, `redis`, or `miss` (also when Redis is unreachable and the read fails). */
export async function tierOf(cache: CacheService, key: string): Promise<string> {
  return (await cache.getWithStatus(key).catch(() => undefined))?.tier ?? 'miss';
}

/**
 * The steps the sharded-channel tests share on a Cluster: boot an app replica (cache with L1, locks; classic pub/sub
 * with `sharded: false`), warm a reader's L1, evict and count what the masters published. `topology()` is read at each
 * call, since the tests start the Cluster in `beforeAll`.
 */
export function shardedChannelSteps(
  topology: () => { cluster: RedisClusterProcesses; observer: Cluster },
  apps: INestApplicationContext[],
) {
  return {
    async replica(sharded: boolean, keyPrefix: string): Promise<INestApplicationContext> {
      const app = await bootstrapTestingApp([
        RedisModule.forRoot({
          cluster: { nodes: topology().cluster.addresses, ...(!sharded && { shardedPubSub: false }) },
          keyPrefix,
          cache: { ttl: 60_000, l1: { maxEntries: 1_000, ttl: 60_000 } },
        }),
      ]);
      apps.push(app);
      return app;
    },

    /** Fills `reader`'s L1 with `keys` (written by `writer`), waiting until each is served from L1. */
    async warm(writer: CacheService, reader: CacheService, keys: string[]): Promise<void> {
      for (const key of keys) await writer.set(key, { key });
      for (const key of keys) {
        expect(await eventually(async () => (await tierOf(reader, key)) === 'l1', 15_000, 20)).toBe(true);
      }
    },

    /** Evicts `keys` on `writer`, waits until `reader` serves none from L1, and returns the counters' growth. */
    async evictAndCount(writer: CacheService, reader: CacheService, keys: string[]) {
      const masters = topology().observer.nodes('master');
      const before = await pubSubCounters(masters);
      for (const key of keys) await writer.del(key);
      for (const key of keys) {
        expect(await eventually(async () => (await tierOf(reader, key)) !== 'l1', 15_000, 20)).toBe(true);
      }
      return pubSubDelta(before, await pubSubCounters(masters));
    },
  };
}
