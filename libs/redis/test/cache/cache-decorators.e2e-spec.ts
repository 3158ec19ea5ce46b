import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CacheService, RedisModule } from '@app/redis';
import { REDIS_URL, bootstrapTestingApp, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { CatalogModule, CatalogService } from './fixtures/catalog.service.js';

const prefix = uniqueKeyPrefix('cache-decorators');
const observer = useRedisClient({ deleteKeysUnder: prefix });

describe('@Cacheable / @CachePut / @CacheEvict', () => {
  let app: INestApplicationContext;
  let catalog: CatalogService;
  let cache: CacheService;

  beforeAll(async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, cache: { ttl: 5_000 } }),
      CatalogModule,
    ]);
    catalog = app.get(CatalogService);
    cache = app.get(CacheService);
  });

  beforeEach(async () => {
    await cache.clear();
    for (const key of Object.keys(catalog.loads)) delete catalog.loads[key];
    catalog.venues.clear();
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('@Cacheable', () => {
    it('serves the second call from Redis under the key it was given', async () => {
      catalog.venues.set('1', { id: '1', name: 'Hall', version: 1 });
      expect(await catalog.venue('1')).toEqual({ id: '1', name: 'Hall', version: 1 });
      expect(await catalog.venue('1')).toEqual({ id: '1', name: 'Hall', version: 1 });
      expect(catalog.loads.venue).toBe(1);
      expect(await observer.exists(`${prefix}cache:{venue:1}`)).toBe(1);
    });

    it('caches null and tells it apart from a miss', async () => {
      expect(await catalog.venue('missing')).toBeNull();
      expect(await catalog.venue('missing')).toBeNull();
      expect(catalog.loads.venue).toBe(1);
      expect(await cache.get('venue:missing')).toBeNull();
      expect(await cache.get('venue:never-asked')).toBeUndefined();
    });

    it('default keys hold class and method: two methods with equal arguments never share an entry', async () => {
      expect(await catalog.search({ city: 'Oslo' })).toEqual(['Oslo:0']);
      expect(await catalog.suggest({ city: 'Oslo' })).toEqual(['suggest:Oslo']);
      expect(catalog.loads).toMatchObject({ search: 1, suggest: 1 });
    });

    it('default keys do not depend on property order', async () => {
      await catalog.search({ city: 'Oslo', size: 2 });
      await catalog.search({ size: 2, city: 'Oslo' });
      expect(catalog.loads.search).toBe(1);
      await catalog.search({ city: 'Oslo', size: 3 });
      expect(catalog.loads.search).toBe(2);
    });

    it('ttl: the entry expires after its own ttl', async () => {
      expect(await catalog.shortLived()).toBe(1);
      expect(await catalog.shortLived()).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(await catalog.shortLived()).toBe(2);
      const pttl = await observer.pttl(`${prefix}cache:{short-lived}`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(150);
    });

    it('condition false bypasses the cache (nothing read or stored)', async () => {
      await catalog.conditional(0);
      await catalog.conditional(0);
      expect(catalog.loads.conditional).toBe(2);
      expect(await observer.exists(`${prefix}cache:{conditional:0}`)).toBe(0);
      await catalog.conditional(1);
      await catalog.conditional(1);
      expect(catalog.loads.conditional).toBe(3);
    });

    it('unless true returns the result without storing it', async () => {
      expect(await catalog.unless(-1)).toBe(-1);
      expect(await catalog.unless(-1)).toBe(-1);
      expect(catalog.loads.unless).toBe(2);
      expect(await observer.exists(`${prefix}cache:{unless:-1}`)).toBe(0);
    });

    it('undefined is never stored', async () => {
      await catalog.nothing();
      await catalog.nothing();
      expect(catalog.loads.nothing).toBe(2);
      expect(await observer.exists(`${prefix}cache:{nothing}`)).toBe(0);
    });

    it('a sync method returns a Promise and its Date round-trips', async () => {
      const first = await catalog.syncValue();
      const second = await catalog.syncValue();
      expect(second.at).toBeInstanceOf(Date);
      expect(second.at.toISOString()).toBe(first.at.toISOString());
      expect(catalog.loads.syncValue).toBe(1);
    });

    it('tags: evicting a tag drops exactly the entries carrying it', async () => {
      catalog.venues.set('1', { id: '1', name: 'A', version: 1 });
      catalog.venues.set('2', { id: '2', name: 'B', version: 1 });
      await catalog.venue('1');
      await catalog.venue('2');
      await catalog.search({ city: 'Oslo' });
      expect(await cache.invalidateTags(['venue:1'])).toBe(1);
      expect(await observer.exists(`${prefix}cache:{venue:1}`)).toBe(0);
      expect(await observer.exists(`${prefix}cache:{venue:2}`)).toBe(1);
      expect(await cache.invalidateTags(['venues'])).toBe(1);
      expect(await observer.exists(`${prefix}cache:{venue:2}`)).toBe(0);
      expect(await cache.get(`CatalogService.search:[{"city":"Oslo"}]`)).toEqual(['Oslo:0']);
    });
  });

  describe('@CachePut', () => {
    it('always runs the method and stores its result where @Cacheable reads it', async () => {
      await catalog.saveVenue({ id: '7', name: 'Dome', version: 1 });
      await catalog.saveVenue({ id: '7', name: 'Dome', version: 2 });
      expect(catalog.loads.saveVenue).toBe(2);
      expect(await catalog.venue('7')).toEqual({ id: '7', name: 'Dome', version: 2 });
      expect(catalog.loads.venue).toBeUndefined();
      expect(await observer.sismember(`${prefix}cache:tag:{venues}`, `${prefix}cache:{venue:7}`)).toBe(1);
    });
  });

  describe('@CacheEvict', () => {
    it('evicts the key after the method succeeds', async () => {
      catalog.venues.set('3', { id: '3', name: 'Arena', version: 1 });
      await catalog.venue('3');
      await catalog.removeVenue('3');
      expect(await observer.exists(`${prefix}cache:{venue:3}`)).toBe(0);
      expect(await catalog.venue('3')).toBeNull();
    });

    it('does not evict when the method throws (after-invocation default)', async () => {
      catalog.venues.set('4', { id: '4', name: 'Club', version: 1 });
      await catalog.venue('4');
      await expect(catalog.failingUpdate('4')).rejects.toThrow('cannot update 4');
      expect(await observer.exists(`${prefix}cache:{venue:4}`)).toBe(1);
    });

    it('beforeInvocation evicts even when the method throws', async () => {
      catalog.venues.set('5', { id: '5', name: 'Barn', version: 1 });
      await catalog.venue('5');
      await expect(catalog.failingRemove('5')).rejects.toThrow('cannot remove 5');
      expect(await observer.exists(`${prefix}cache:{venue:5}`)).toBe(0);
    });

    it('tags evict every tagged entry', async () => {
      catalog.venues.set('1', { id: '1', name: 'A', version: 1 });
      await catalog.venue('1');
      await catalog.renameAll('!');
      expect((await catalog.venue('1'))?.name).toBe('A!');
    });

    it('allEntries clears this namespace only (SCAN), leaving other keys of the same Redis', async () => {
      const foreign = `${prefix.slice(0, -1)}-foreign:cache:{x}`;
      await observer.set(foreign, 'keep');
      await observer.set(`${prefix}not-cache`, 'keep');
      await catalog.search({ city: 'Rome' });
      await catalog.reset();
      expect(await cache.get(`CatalogService.search:[{"city":"Rome"}]`)).toBeUndefined();
      expect(await observer.get(foreign)).toBe('keep');
      expect(await observer.get(`${prefix}not-cache`)).toBe('keep');
      await observer.del(foreign);
    });
  });
});
