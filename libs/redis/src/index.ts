/**
 * `@localcloudlab/nest-redis`: the public API of the main entry point. Everything exported here is covered by the
 * versioning policy (README, "Versioning") and frozen in `etc/nest-redis.public.api.md`; everything else under
 * `src/` is internal and may change in any release.
 */
export { RedisModule } from './redis.module.js';
export type { RedisModuleExtras } from './redis.module-definition.js';
export { DEFAULT_REDIS_CONNECTION, REDIS_MODULE_SETTINGS, getRedisConnectionToken } from './redis.constants.js';
export type { RedisModuleOptions } from './module-options/redis-module-options.interface.js';
export type { RedisConnectionOptions, RedisNodeAddress } from './connection/redis-connection-options.interface.js';
export type { RedisCredentials, RedisCredentialsProvider } from './connection/redis-credentials.interface.js';
export type { RedisModuleSettings } from './keyspace/redis-module-settings.interface.js';
export { InjectRedis } from './connection/inject-redis.decorator.js';
export type { RedisClient } from './connection/redis-connection.factory.js';
export { RedisKeyspace } from './keyspace/redis-keyspace.js';
export { RedisInstrumentation } from './instrumentation/redis-instrumentation.js';
export type {
  ConsumerLagSource,
  RedisInstrumentationEvent,
  RedisInstrumentationEvents,
  UntrustedInputSource,
} from './instrumentation/redis-instrumentation.events.js';
export type {
  RedisTransportTracer,
  TransportSpanEnd,
  TransportSpanInfo,
} from './instrumentation/redis-transport.tracer.js';
export { RedisToolkitError, type RedisToolkitErrorContext } from './errors/redis-toolkit.error.js';
export { RedisOptionsError } from './errors/redis-options.error.js';
export { RedisConnectionError } from './errors/redis-connection.error.js';
export { MethodNotWrappedError } from './errors/method-not-wrapped.error.js';
export { LockService } from './lock/lock.service.js';
export type { Lock, LockNode, MultiLock } from './lock/lock.interface.js';
export type { LockModuleOptions, LockNodeOptions, LockOptions } from './lock/lock-options.interface.js';
export { LockNotAcquiredError, type LockNotAcquiredReason } from './errors/lock-not-acquired.error.js';
export { LockLostError, type LockLostReason } from './errors/lock-lost.error.js';
export { WithLock } from './lock/with-lock.decorator.js';
export type { WithLockOptions } from './lock/with-lock-options.interface.js';
export {
  CacheService,
  type CacheManyEntry,
  type CacheResult,
  type CacheSetManyOptions,
  type CacheSetOptions,
} from './cache/cache.service.js';
export { CacheMetrics } from './cache/cache-metrics.js';
export { Cacheable } from './cache/cacheable.decorator.js';
export { CachePut } from './cache/cache-put.decorator.js';
export { CacheEvict } from './cache/cache-evict.decorator.js';
export { V8CacheSerializer } from './cache/serializers/v8.serializer.js';
export { TaggedJsonCacheSerializer } from './cache/serializers/tagged-json.serializer.js';
export type { CacheSerializer } from './cache/serializers/cache-serializer.interface.js';
export { RedisKeyvStore, type KeyvStoreEntry } from './cache/keyv/redis-keyv.store.js';
export type {
  AnyArgs,
  CacheableOptions,
  CacheCounters,
  CacheEvictOptions,
  CacheKeyOption,
  CacheModuleOptions,
  CachePutOptions,
  CacheServedInfo,
  CacheServedStatus,
  CacheTagsOption,
  CacheWrapOptions,
} from './cache/cache-options.interface.js';
