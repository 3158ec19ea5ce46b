import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { CacheService, RedisModule, getRedisConnectionToken } from '@app/redis';
import { RedisClusterProcesses, bootstrapTestingApp, uniqueKeyPrefix } from '../../../../test/harness/index.js';
import { CatalogModule, CatalogService } from './fixtures/catalog.service.js';

const prefix = uniqueKeyPrefix('cache-cluster');

describe('Cache on a Redis Cluster (3 throwaway masters)', () => {
  let cluster: RedisClusterProcesses;
  let app: INestApplicationContext;
  let cache: CacheService;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        cluster: { nodes: cluster.addresses },
        keyPrefix: prefix,
        cache: { ttl: 10_000, staleTtl: 10_000, l1: { maxEntries: 100, ttl: 5_000 } },
      }),
      CatalogModule,
    ]);
    cache = app.get(CacheService);
    client = app.get<Cluster>(getRedisConnectionToken());
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('wrap stores entries spread over several masters and single-flights 1,000 concurrent misses', async () => {
    let loads = 0;
    const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`);
    await Promise.all(keys.map((key) => cache.wrap(key, () => ({ key, at: new Date(0) }))));
    const perMaster = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(perMaster.every((count) => count > 0)).toBe(true);
    const back = await cache.get<{ key: string; at: Date }>('item:7');
    expect(back?.at).toBeInstanceOf(Date);

    const results = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        cache.wrap('cold', async () => {
          loads++;
          await new Promise((r) => setTimeout(r, 30));
          return 'v';
        }),
      ),
    );
    expect(loads).toBe(1);
    expect(new Set(results)).toEqual(new Set(['v']));
  });

  it('tags spanning slots on different masters evict exactly their entries', async () => {
    const tagged = Array.from({ length: 20 }, (_, i) => `tagged:${i}`);
    await Promise.all(tagged.map((key, i) => cache.set(key, i, { tags: [i % 2 === 0 ? 'even' : 'odd', 'all'] })));
    const slots = new Set(
      await Promise.all(tagged.map((key) => client.cluster('KEYSLOT', `${prefix}cache:{${key}}`) as Promise<number>)),
    );
    expect(slots.size).toBeGreaterThan(1);
    expect(await cache.invalidateTags(['even'])).toBe(10);
    const values = await Promise.all(tagged.map((key) => cache.get(key)));
    expect(values).toEqual(tagged.map((_, i) => (i % 2 === 0 ? undefined : i)));
    expect(await cache.invalidateTags(['all'])).toBe(10);
  });

  it('decorators, eviction and clear() across every master', async () => {
    const catalog = app.get(CatalogService);
    catalog.venues.set('1', { id: '1', name: 'A', version: 1 });
    await catalog.venue('1');
    await catalog.venue('1');
    expect(catalog.loads.venue).toBe(1);
    await catalog.removeVenue('1');
    expect(await catalog.venue('1')).toBeNull();
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set(`clear:${i}`, i)));
    expect(await cache.clear()).toBeGreaterThanOrEqual(20);
    expect(await cache.get('clear:3')).toBeUndefined();
  });
});
