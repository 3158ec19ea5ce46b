import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CacheService, RedisModule } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  eventually,
  redisCluster,
  singleNode,
  uniqueKeyPrefix,
} from '@test/harness';
import { hashSlot } from '../../src/cache/batch/redis-hash-slot.js';

/** How many times the servers ran the given commands so far (INFO commandstats, summed over every master). */
async function commandCalls(running: RunningTopology, ...names: string[]): Promise<number> {
  let total = 0;
  for (const node of running.masterClients()) {
    const info = await node.info('commandstats');
    for (const name of names) total += Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  }
  return total;
}

/** Commands the servers ran while `action` ran (the servers are this suite's own: nothing else talks to them). */
async function countCommands(running: RunningTopology, names: string[], action: () => Promise<unknown>) {
  const before = await commandCalls(running, ...names);
  await action();
  return (await commandCalls(running, ...names)) - before;
}

function batchSuite(topology: RedisTopology): void {
  describe(`CacheService getMany / setMany / delMany on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('cache-batch');
    let running: RunningTopology;
    let app: INestApplicationContext;
    let replica: INestApplicationContext;
    let cache: CacheService;
    let other: CacheService;
    // 20 keys sharing the hash tag {venue-1}, 20 sharing {venue-2}, 10 on their own slots.
    const keys = [
      ...Array.from({ length: 20 }, (_x, i) => `{venue-1}:room:${i}`),
      ...Array.from({ length: 20 }, (_x, i) => `{venue-2}:room:${i}`),
      ...Array.from({ length: 10 }, (_x, i) => `guest:${i}`),
    ];
    const entryKey = (key: string) => `${prefix}cache:{${key}}`;
    /** Commands one batch over `keys` should cost: 1 on a single node, one per hash slot on a Cluster. */
    let expectedPerBatch: number;

    beforeAll(async () => {
      running = await topology.start();
      const options = { ...running.connection, keyPrefix: prefix, cache: { ttl: 30_000, staleTtl: 30_000 } };
      app = await bootstrapTestingApp([RedisModule.forRoot(options)]);
      replica = await bootstrapTestingApp([
        RedisModule.forRoot({ ...options, cache: { ...options.cache, l1: { maxEntries: 1_000, ttl: 30_000 } } }),
      ]);
      cache = app.get(CacheService);
      other = replica.get(CacheService);
      if (topology.masters === 1) expectedPerBatch = 1;
      else {
        const slots = new Set<number>();
        for (const key of keys) slots.add((await running.observer.cluster('KEYSLOT', entryKey(key))) as number);
        expectedPerBatch = slots.size;
      }
    }, 60_000);

    beforeEach(async () => {
      await cache.clear();
    });

    afterAll(async () => {
      await replica?.close();
      await app?.close();
      await running?.stop();
    });

    // Slots exist on a Cluster only (a single node takes every key in one command).
    if (topology.masters > 1) {
      it('computes the hash slot of every entry key as CLUSTER KEYSLOT does', async () => {
        for (const key of keys) {
          expect(hashSlot(entryKey(key))).toBe(await running.observer.cluster('KEYSLOT', entryKey(key)));
        }
        // 2 shared tags + 10 keys of their own: far fewer commands than keys.
        expect(expectedPerBatch).toBeLessThanOrEqual(12);
      });
    }

    it('getMany reads 50 keys with one script per hash slot (its GETs run inside Redis)', async () => {
      await cache.setMany(keys.map((key, i) => ({ key, value: { i } })));
      await cache.getMany(keys); // loads the script on every node
      let values: unknown[] = [];
      const scripts = await countCommands(
        running,
        ['evalsha', 'eval'],
        async () => (values = await cache.getMany(keys)),
      );
      expect(values).toEqual(keys.map((_key, i) => ({ i })));
      expect(scripts).toBe(expectedPerBatch);
    });

    it('setMany writes 50 entries with one script per hash slot and one PUBLISH', async () => {
      // Loads the script on every node first (a node that has not seen it answers NOSCRIPT once).
      await cache.setMany(keys.map((key) => ({ key, value: 0 })));
      const scripts = await countCommands(running, ['evalsha', 'eval'], () =>
        cache.setMany(keys.map((key, i) => ({ key, value: `v${i}` }))),
      );
      expect(scripts).toBe(expectedPerBatch);
      if (topology.masters === 1) {
        expect(await countCommands(running, ['publish'], () => cache.setMany([{ key: 'one', value: 1 }]))).toBe(1);
      }
      expect(await cache.get(keys[7]!)).toBe('v7');
    });

    it('setMany with tags adds one script per tag, and the tags evict the whole batch', async () => {
      await cache.setMany(
        keys.map((key) => ({ key, value: 0 })),
        { tags: ['rooms', 'guests'] },
      );
      const scripts = await countCommands(running, ['evalsha', 'eval'], () =>
        cache.setMany(
          keys.map((key, i) => ({ key, value: i })),
          { tags: ['rooms', 'guests'] },
        ),
      );
      expect(scripts).toBe(expectedPerBatch + 2);
      expect(await cache.invalidateTags(['rooms'])).toBe(keys.length);
      expect(await cache.getMany(keys)).toEqual(keys.map(() => undefined));
    });

    it('delMany evicts 50 keys with one script per hash slot', async () => {
      await cache.setMany(keys.map((key) => ({ key, value: 1 })));
      await cache.delMany(keys);
      await cache.setMany(keys.map((key) => ({ key, value: 2 })));
      const generations = async () =>
        Promise.all(keys.slice(0, 3).map(async (key) => Number(await running.observer.get(`${entryKey(key)}:g`))));
      const before = await generations();
      const scripts = await countCommands(running, ['evalsha', 'eval'], () => cache.delMany(keys));
      expect(scripts).toBe(expectedPerBatch);
      expect(await cache.getMany(keys)).toEqual(keys.map(() => undefined));
      // Generations were bumped, so loads already running cannot write the keys back.
      expect(await generations()).toEqual(before.map((generation) => generation + 1));
    });

    it('shares the entry format with the single-key paths: set → getMany, setMany → get / wrap', async () => {
      await cache.set('single', { from: 'set' });
      await cache.setMany([
        { key: 'batch', value: { from: 'setMany' } },
        { key: 'nothing', value: null },
        { key: 'skipped', value: undefined },
      ]);
      expect(await cache.getMany(['single', 'batch', 'nothing', 'skipped', 'absent'])).toEqual([
        { from: 'set' },
        { from: 'setMany' },
        null,
        undefined,
        undefined,
      ]);
      expect(await cache.get('batch')).toEqual({ from: 'setMany' });
      let loads = 0;
      expect(await cache.wrap('batch', () => ++loads)).toEqual({ from: 'setMany' });
      expect(loads).toBe(0);
    });

    it('applies ttl + staleTtl per entry (an entry option wins over the call option)', async () => {
      await cache.setMany(
        [
          { key: 'short', value: 1, ttl: 1_000, staleTtl: 1_000 },
          { key: 'call', value: 2 },
        ],
        { ttl: 50_000, staleTtl: 50_000 },
      );
      const short = await running.observer.pttl(entryKey('short'));
      const call = await running.observer.pttl(entryKey('call'));
      expect(short).toBeGreaterThan(0);
      expect(short).toBeLessThanOrEqual(2_000);
      expect(call).toBeGreaterThan(60_000);
      expect(call).toBeLessThanOrEqual(100_000);
    });

    it('fills L1 from getMany and drops it when another replica writes or evicts the keys', async () => {
      const few = keys.slice(0, 5);
      await cache.setMany(few.map((key) => ({ key, value: 'old' })));
      // L1 is used once the replica's invalidation bus is subscribed (started by its first cache call).
      expect(
        await eventually(
          async () => (await countCommands(running, ['evalsha', 'eval', 'get'], () => other.getMany(few))) === 0,
        ),
      ).toBe(true);
      expect(await other.getMany(few)).toEqual(few.map(() => 'old'));
      await cache.setMany(few.map((key) => ({ key, value: 'new' })));
      expect(await eventually(async () => (await other.getMany(few)).every((v) => v === 'new'))).toBe(true);
      await cache.delMany(few);
      expect(await eventually(async () => (await other.getMany(few)).every((v) => v === undefined))).toBe(true);
    });

    it('fails open while the node holding keys is stopped (reads miss, writes resolve), then recovers', async () => {
      const few = keys.slice(40, 45);
      await cache.setMany(few.map((key) => ({ key, value: 'before' })));
      const restart = await running.stopNodeHolding(entryKey(few[0]!));
      try {
        const during = await cache.getMany(few);
        expect(during[0]).toBeUndefined();
        await expect(cache.setMany(few.map((key) => ({ key, value: 'during' })))).resolves.toBeUndefined();
        await expect(cache.delMany(few)).resolves.toBeUndefined();
      } finally {
        await restart();
      }
      expect(
        await eventually(async () => {
          await cache.setMany(few.map((key) => ({ key, value: 'after' })));
          return (await cache.getMany(few)).every((value) => value === 'after');
        }, 20_000),
      ).toBe(true);
    }, 60_000);
  });
}

batchSuite(singleNode);
batchSuite(redisCluster);
