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

export const CACHE_BUS_NOT_SUBSCRIBED = (sharded: boolean, reason: string): string =>
  `Cache invalidation channel not subscribed (${reason}): L1 is bypassed and replicas waiting for another's load ` +
  'poll until it is; retried every second.' +
  (sharded
    ? ' It is a sharded channel (cluster.shardedPubSub): the ACL user needs ssubscribe and spublish on it.'
    : '');

export const CACHE_L1_DROPPED = (reason: string): string => `Cache L1 dropped (${reason}).`;

export const CACHE_MANAGER_UNAVAILABLE = (reason: string): string =>
  'CACHE_MANAGER is served by RedisModule but the "cache-manager" and "keyv" packages could not be loaded ' +
  `(${reason}). Install them, or set cache.cacheManager: false.`;

export const CACHE_L1_TRACKING_FAILED = (reason: string, suppressed: number): string =>
  `Cache L1 is bypassed: server-assisted invalidation (CLIENT TRACKING, Redis ≥ 6) could not be set up (${reason})` +
  (suppressed > 0 ? ` (${suppressed} more failures since the last report)` : '') +
  '. It is retried whenever the tracking connection reconnects; the ACL user needs client|id, client|tracking, ' +
  'subscribe and the channel __redis__:invalidate.';
