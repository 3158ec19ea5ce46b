import { describe, expect, it } from '@jest/globals';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Injectable, Module } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { Redis } from 'ioredis';
import { CacheService, InjectRedis, LockService, RedisModule, type RedisClient } from '@app/redis';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';

const prefix = uniqueKeyPrefix('injected-client');

@Injectable()
class HoldsClient {
  constructor(@InjectRedis() readonly client: RedisClient) {}
}

@Module({ providers: [HoldsClient] })
class HoldsClientModule {}

/** Own properties (every key, symbols included) whose value is a function. */
function ownFunctions(object: object): string[] {
  return Reflect.ownKeys(object)
    .filter((key) => typeof (object as Record<PropertyKey, unknown>)[key] === 'function')
    .map(String)
    .sort();
}

/** Every property name along the prototype chain below `Object.prototype`. */
function allNames(object: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Reflect.ownKeys(o)) names.add(String(key));
  }
  return [...names];
}

describe('The client injected with @InjectRedis() is left as ioredis made it', () => {
  const apps = useTestApps(prefix);

  it('has no methods or properties added by the library after cache, lock and CACHE_MANAGER use', async () => {
    const app = await apps.boot([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, cache: { staleTtl: 1_000, l1: { maxEntries: 10 } } }),
      HoldsClientModule,
    ]);
    const client = app.get(HoldsClient).client as Redis;
    const fresh = new Redis(REDIS_URL);
    try {
      // A fresh connection that ran the same kinds of commands (plain, EVAL, pub/sub publish).
      await fresh.set(`${prefix}fresh`, '1');
      await fresh.eval('return 1', 0);
      await fresh.publish(`${prefix}fresh`, 'x');

      const cache = app.get(CacheService);
      expect(await cache.wrap('venue:1', () => ({ id: 1 }), { tags: ['venues'] })).toEqual({ id: 1 });
      expect(await cache.wrap('venue:1', () => ({ id: 2 }))).toEqual({ id: 1 });
      await cache.put('venue:2', () => ({ id: 2 }), { tags: ['venues'] });
      await cache.set('greeting', 'hello');
      expect(await cache.invalidateTags(['venues'])).toBe(2);
      await cache.del('greeting');
      await app.get(LockService).using('orders:1', {}, async () => undefined);
      const manager = app.get<Cache>(CACHE_MANAGER);
      await manager.set('cm', 'value');
      expect(await manager.get('cm')).toBe('value');

      expect(Object.getPrototypeOf(client)).toBe(Object.getPrototypeOf(fresh));
      expect(ownFunctions(client)).toEqual(ownFunctions(fresh));
      expect(Reflect.ownKeys(client).map(String).sort()).toEqual(Reflect.ownKeys(fresh).map(String).sort());
      expect(Object.keys((client as unknown as { scriptsSet: object }).scriptsSet)).toEqual([]);
      expect(allNames(client).filter((name) => /nestredis/i.test(name))).toEqual([]);
    } finally {
      fresh.disconnect();
    }
  });
});
