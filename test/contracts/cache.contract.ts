import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CacheService, RedisModule } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
} from '@test/harness';
import { CatalogModule, CatalogService } from '../../libs/redis/test/cache/fixtures/catalog.service.js';

/**
 * The contract is about behaviour, not deadlines: a generous `commandTimeout` keeps a store write from failing open
 * (by design, within the default 250 ms) while the whole suite loads this shared 2-core machine.
 */
const CACHE_OPTIONS = { ttl: 10_000, staleTtl: 10_000, commandTimeout: 5_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise resolved by hand, to hold a loader in flight while the test does something else. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * What `CacheService` and the cache decorators promise on any Redis deployment, written once and run per topology
 * (as bentocache's driver test suite runs once per driver): get/set/del, the Redis expiry, single-flight `wrap`
 * within one app and across replicas, eviction winning over a slow loader, tags, `clear()`, the decorators, and
 * fail-open while the node holding a key is stopped. Call it at the top level of a spec file.
 */
export function cacheContract(topology: RedisTopology): void {
  describe(`Cache contract on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('cache-contract');
    let running: RunningTopology;
    let app: INestApplicationContext;
    let cache: CacheService;
    const replicas: INestApplicationContext[] = [];

    /** A second application on the same keyspace: another replica of the service. */
    async function replica(): Promise<CacheService> {
      const other = await bootstrapTestingApp([
        RedisModule.forRoot({ ...running.connection, keyPrefix: prefix, cache: CACHE_OPTIONS }),
      ]);
      replicas.push(other);
      return other.get(CacheService);
    }

    /** How many masters hold at least one key matching `pattern` (SCAN is local to each node). */
    async function mastersHolding(pattern: string): Promise<number> {
      let masters = 0;
      for (const node of running.masterClients()) {
        let cursor = '0';
        let found = false;
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          found ||= keys.length > 0;
        } while (cursor !== '0' && !found);
        if (found) masters++;
      }
      return masters;
    }

    beforeAll(async () => {
      running = await topology.start();
      app = await bootstrapTestingApp([
        RedisModule.forRoot({ ...running.connection, keyPrefix: prefix, cache: CACHE_OPTIONS }),
        CatalogModule,
      ]);
      cache = app.get(CacheService);
    }, 60_000);

    beforeEach(async () => {
      await cache.clear();
    });

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.close()));
      await app?.close();
      await running?.stop();
    });

    describe('get / set / del', () => {
      it('a cached null is a hit, a missing key is undefined', async () => {
        await cache.set('null', null);
        expect(await cache.get('null')).toBeNull();
        expect(await cache.getWithStatus('null')).toMatchObject({ value: null, status: 'hit', tier: 'redis' });
        expect(await cache.get('absent')).toBeUndefined();
        expect(await cache.getWithStatus('absent')).toBeUndefined();
      });

      it('set stores under <prefix>cache:{key} with ttl + staleTtl as the Redis expiry', async () => {
        await cache.set('k', 'v', { ttl: 1_000, staleTtl: 2_000 });
        const pttl = await running.observer.pttl(`${prefix}cache:{k}`);
        expect(pttl).toBeGreaterThan(2_500);
        expect(pttl).toBeLessThanOrEqual(3_000);
      });

      it('undefined is never stored', async () => {
        await cache.set('u', undefined);
        expect(await running.observer.exists(`${prefix}cache:{u}`)).toBe(0);
      });

      it('del removes one or several keys', async () => {
        await cache.set('a', 1);
        await cache.set('b', 2);
        await cache.del(['a', 'b']);
        expect(await cache.get('a')).toBeUndefined();
        expect(await cache.get('b')).toBeUndefined();
      });
    });

    describe('wrap', () => {
      it(`stores entries spread over every master (${topology.masters}), Dates intact`, async () => {
        const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`);
        await Promise.all(keys.map((key) => cache.wrap(key, () => ({ key, at: new Date(0) }))));
        expect(await mastersHolding(`${prefix}cache:{item:*}`)).toBe(topology.masters);
        const back = await cache.get<{ key: string; at: Date }>('item:7');
        expect(back?.at).toBeInstanceOf(Date);
      });

      it('calls the loader once for 1,000 concurrent calls on a cold key', async () => {
        let loads = 0;
        const loader = async () => {
          loads++;
          await sleep(50);
          return { n: 42 };
        };
        const results = await Promise.all(Array.from({ length: 1_000 }, () => cache.wrap('cold', loader)));
        expect(loads).toBe(1);
        expect(results.every((r) => r.n === 42)).toBe(true);
        expect(await cache.get('cold')).toEqual({ n: 42 });
      });

      it('calls the loader once for concurrent calls on a cold key from two replicas', async () => {
        const other = await replica();
        let loads = 0;
        const loader = async () => {
          loads++;
          await sleep(200);
          return 'v';
        };
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => (i % 2 ? other : cache).wrap('cold-replicas', loader)),
        );
        expect(loads).toBe(1);
        expect(new Set(results)).toEqual(new Set(['v']));
      });

      it('a loader error reaches the caller and nothing is stored', async () => {
        await expect(
          cache.wrap('boom', () => {
            throw new Error('loader failed');
          }),
        ).rejects.toThrow('loader failed');
        expect(await running.observer.exists(`${prefix}cache:{boom}`)).toBe(0);
        expect(await running.observer.exists(`${prefix}cache:{boom}:l`)).toBe(0);
      });
    });

    describe('eviction wins', () => {
      it('a slow loader started before del() does not write its result back', async () => {
        const gate = deferred();
        let started = false;
        const pending = cache.wrap('race', async () => {
          started = true;
          await gate.promise;
          return 'stale-from-before-eviction';
        });
        expect(await eventually(() => started, 3_000, 5)).toBe(true);
        await cache.del('race');
        gate.resolve();
        expect(await pending).toBe('stale-from-before-eviction');
        expect(await running.observer.exists(`${prefix}cache:{race}`)).toBe(0);
        expect(await cache.wrap('race', () => 'fresh')).toBe('fresh');
      });

      it('a slow loader started before invalidateTags() does not write its result back', async () => {
        const gate = deferred();
        let started = false;
        const pending = cache.wrap(
          'tag-race',
          async () => {
            started = true;
            await gate.promise;
            return 'old';
          },
          { tags: ['race-tag'] },
        );
        expect(await eventually(() => started, 3_000, 5)).toBe(true);
        await cache.invalidateTags(['race-tag']);
        gate.resolve();
        await pending;
        expect(await running.observer.exists(`${prefix}cache:{tag-race}`)).toBe(0);
      });
    });

    describe('tags', () => {
      it('invalidateTags removes exactly the tagged keys', async () => {
        await cache.set('t1', 1, { tags: ['red'] });
        await cache.set('t2', 2, { tags: ['red', 'blue'] });
        await cache.set('t3', 3, { tags: ['blue'] });
        await cache.set('t4', 4);
        expect(await cache.invalidateTags(['red'])).toBe(2);
        expect(await Promise.all(['t1', 't2', 't3', 't4'].map((k) => cache.get(k)))).toEqual([
          undefined,
          undefined,
          3,
          4,
        ]);
      });

      it(`tags whose entries live on every master (${topology.masters}) evict exactly their entries`, async () => {
        const tagged = Array.from({ length: 20 }, (_, i) => `tagged:${i}`);
        await Promise.all(tagged.map((key, i) => cache.set(key, i, { tags: [i % 2 === 0 ? 'even' : 'odd', 'all'] })));
        expect(await mastersHolding(`${prefix}cache:{tagged:*}`)).toBe(topology.masters);
        expect(await cache.invalidateTags(['even'])).toBe(10);
        const values = await Promise.all(tagged.map((key) => cache.get(key)));
        expect(values).toEqual(tagged.map((_, i) => (i % 2 === 0 ? undefined : i)));
        expect(await cache.invalidateTags(['all'])).toBe(10);
      });
    });

    describe('decorators and clear', () => {
      it('@Cacheable serves the second call from Redis and @CacheEvict evicts it', async () => {
        const catalog = app.get(CatalogService);
        catalog.venues.set('1', { id: '1', name: 'A', version: 1 });
        const loadsBefore = catalog.loads.venue ?? 0;
        await catalog.venue('1');
        await catalog.venue('1');
        expect(catalog.loads.venue).toBe(loadsBefore + 1);
        await catalog.removeVenue('1');
        expect(await catalog.venue('1')).toBeNull();
      });

      it('clear() evicts only this namespace, on every master, with SCAN', async () => {
        const neighbour = `${prefix}neighbour:key`;
        await running.observer.set(neighbour, 'keep');
        await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set(`clear:${i}`, i)));
        await cache.set('c2', 2, { tags: ['x'] });
        expect(await mastersHolding(`${prefix}cache:{clear:*}`)).toBe(topology.masters);
        expect(await cache.clear()).toBe(21);
        expect(await cache.get('clear:3')).toBeUndefined();
        expect(await running.observer.get(neighbour)).toBe('keep');
        expect(await running.observer.exists(`${prefix}cache:tag:{x}`)).toBe(0);
        await running.observer.del(neighbour);
      });
    });

    // Last: it stops a node, and the topology must recover before the suite ends.
    describe('fail-open', () => {
      it('with the node holding a key stopped, reads miss, writes resolve, wrap runs the loader; then it recovers', async () => {
        await cache.set('down', 'before');
        const restart = await running.stopNodeHolding(`${prefix}cache:{down}`);
        try {
          expect(await cache.get('down')).toBeUndefined();
          await expect(cache.set('down', 'during')).resolves.toBeUndefined();
          await expect(cache.del('down')).resolves.toBeUndefined();
          expect(await cache.wrap('down', () => 'computed')).toBe('computed');
        } finally {
          await restart();
        }
        expect(
          await eventually(async () => {
            await cache.set('down', 'after');
            return (await cache.get('down')) === 'after';
          }, 20_000),
        ).toBe(true);
      }, 60_000);
    });
  });
}
