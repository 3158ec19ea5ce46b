/** Metadata key of `@Cacheable` (its options, on the method). */
export const CACHEABLE_METADATA = '@localcloudlab/nest-redis:cacheable';
/** Metadata key of `@CachePut`. */
export const CACHE_PUT_METADATA = '@localcloudlab/nest-redis:cache-put';
/** Metadata key of `@CacheEvict`. */
export const CACHE_EVICT_METADATA = '@localcloudlab/nest-redis:cache-evict';

/** Injection token of the resolved cache options. */
export const REDIS_CACHE_OPTIONS = '@localcloudlab/nest-redis:cache-options';

/** Keyspace part of every cache key: `<keyPrefix>cache:…`. */
export const CACHE_NAMESPACE = 'cache';

/** How long generation counters live after an eviction: longer than any loader may run. */
export const GENERATION_TTL_MS = 3_600_000;
