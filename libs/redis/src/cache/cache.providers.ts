import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { CacheAspect } from './cache.aspect.js';
import { CacheBatch } from './cache.batch.js';
import { CacheMetrics } from './cache-metrics.js';
import { CacheServedObserver } from './cache-served.observer.js';
import { CacheLoader } from './cache.loader.js';
import { CacheLookup } from './cache.lookup.js';
import { CacheRefresher } from './cache.refresher.js';
import { CacheService } from './cache.service.js';
import { CacheStack } from './cache.stack.js';
import { LoadingLockReleaser } from './loading-lock.releaser.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CACHE_MANAGER_TOKEN, cacheManagerProvider } from './keyv/cache-manager.provider.js';

/** Internal: the providers RedisModule registers for the cache. */
export const cacheProviders: Provider[] = [
  {
    provide: REDIS_CACHE_OPTIONS,
    useFactory: (options: { cache: ResolvedCacheOptions }) => options.cache,
    inject: [REDIS_RESOLVED_OPTIONS],
  },
  CacheMetrics,
  // Internal collaborators of CacheService and CacheAspect (not exported from RedisModule).
  CacheStack,
  LoadingLockReleaser,
  CacheLoader,
  CacheRefresher,
  CacheServedObserver,
  CacheLookup,
  CacheBatch,
  CacheService,
  CacheAspect,
  cacheManagerProvider,
];

/** Internal: what RedisModule exports of the cache. */
export const cacheExports = [CacheService, CacheMetrics, CACHE_MANAGER_TOKEN];

/** Internal: the module that serves Nest's `Cache` class token (only ever built by {@link cacheManagerAliasModule}). */
@Module({})
export class RedisCacheManagerAliasModule {}

/**
 * Serves `@nestjs/cache-manager`'s `Cache` class as an alias of `CACHE_MANAGER`, so `constructor(private cache:
 * Cache)` works as in Nest's caching docs. The class is loaded on demand (the package is an optional peer): an
 * asynchronous import, because the token must be the very class the application imports, and Nest accepts a
 * promised module in `imports`. Without the package the module is empty. The alias is global, like `CACHE_MANAGER`;
 * a non-global `RedisModule` (`isGlobal: false`) does not serve it (inject `CACHE_MANAGER` there).
 */
export async function cacheManagerAliasModule(): Promise<DynamicModule> {
  let cacheClass: abstract new () => unknown;
  try {
    ({ Cache: cacheClass } = await import('@nestjs/cache-manager'));
  } catch {
    return { module: RedisCacheManagerAliasModule };
  }
  return {
    module: RedisCacheManagerAliasModule,
    global: true,
    providers: [{ provide: cacheClass, useExisting: CACHE_MANAGER_TOKEN }],
    exports: [cacheClass],
  };
}
