/** Message builders of the cache. Keys are logged without the module's prefix; values are never logged. */

export const CACHE_FAIL_OPEN = (name: string, reason: string, suppressed: number): string =>
  `Cache "${name}" is running uncached: ${reason}` +
  (suppressed > 0 ? ` (${suppressed} more failures since the last report)` : '') +
  '. The cache recovers by itself when Redis answers again.';

export const CACHE_SERVED_STALE_AFTER_ERROR = (name: string, key: string, reason: string): string =>
  `Cache "${name}": the loader of "${key}" failed (${reason}); served the stale value (grace).`;

export const CACHE_REFRESH_FAILED = (name: string, key: string, reason: string): string =>
  `Cache "${name}": background refresh of "${key}" failed (${reason}); the stale value stays until it expires.`;

export const CACHE_COMMAND_TIMEOUT = (ms: number): string => `a cache command took over ${ms} ms`;

export const CACHE_NOT_CONNECTED = (status: string): string => `the Redis connection is ${status}`;

export const CACHE_L1_DROPPED = (reason: string): string => `Cache L1 dropped (${reason}).`;

export const CACHE_MANAGER_UNAVAILABLE = (reason: string): string =>
  'CACHE_MANAGER is served by RedisModule but the "cache-manager" and "keyv" packages could not be loaded ' +
  `(${reason}). Install them, or set cache.cacheManager: false.`;
