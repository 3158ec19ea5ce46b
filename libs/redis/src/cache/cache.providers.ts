import type { Provider } from '@nestjs/common';
import type { ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import { REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { CacheAspect } from './cache.aspect.js';
import { CacheMetrics } from './cache-metrics.js';
import { CacheService } from './cache.service.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CACHE_MANAGER_TOKEN, cacheManagerProvider } from './keyv/cache-manager.provider.js';

/** Internal: the providers RedisModule registers for the cache. */
export const cacheProviders: Provider[] = [
  {
    provide: REDIS_CACHE_OPTIONS,
    useFactory: (options: ResolvedRedisOptions) => options.cache,
    inject: [REDIS_RESOLVED_OPTIONS],
  },
  CacheMetrics,
  CacheService,
  CacheAspect,
  cacheManagerProvider,
];

/** Internal: what RedisModule exports of the cache. */
export const cacheExports = [CacheService, CacheMetrics, CACHE_MANAGER_TOKEN];
