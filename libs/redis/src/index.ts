export { RedisModule } from './redis.module.js';
export { REDIS_MODULE_OPTIONS, type RedisModuleExtras } from './redis.module-definition.js';
export { DEFAULT_REDIS_CONNECTION, REDIS_RESOLVED_OPTIONS, getRedisConnectionToken } from './redis.constants.js';
export type { RedisModuleOptions } from './interfaces/redis-module-options.interface.js';
export type { RedisConnectionOptions, RedisNodeAddress } from './interfaces/redis-connection-options.interface.js';
export type { ResolvedRedisConnection, ResolvedRedisOptions } from './interfaces/resolved-redis-options.interface.js';
export { InjectRedis } from './connection/inject-redis.decorator.js';
export { RedisConnectionsRegistry } from './connection/redis-connections.registry.js';
export type { RedisClient } from './connection/redis-connection.factory.js';
export { RedisKeyspace } from './keyspace/redis-keyspace.js';
export { RedisInstrumentation } from './instrumentation/redis-instrumentation.js';
export type {
  RedisInstrumentationEvent,
  RedisInstrumentationEvents,
} from './instrumentation/redis-instrumentation.events.js';
export { RedisToolkitError } from './errors/redis-toolkit.error.js';
export { RedisOptionsError } from './errors/redis-options.error.js';
export { RedisConnectionError } from './errors/redis-connection.error.js';
export { LockService } from './lock/lock.service.js';
export type { Lock, LockNode } from './lock/lock.interface.js';
export type { LockModuleOptions, LockNodeOptions, LockOptions } from './lock/lock-options.interface.js';
export { LockNotAcquiredError, type LockNotAcquiredReason } from './errors/lock-not-acquired.error.js';
export { LockLostError, type LockLostReason } from './errors/lock-lost.error.js';
export { WithLock } from './lock/with-lock.decorator.js';
export type { WithLockOptions } from './lock/with-lock-options.interface.js';
export { CacheService, type CacheResult, type CacheSetOptions } from './cache/cache.service.js';
export { CacheMetrics } from './cache/cache-metrics.js';
export { Cacheable } from './cache/cacheable.decorator.js';
export { CachePut } from './cache/cache-put.decorator.js';
export { CacheEvict } from './cache/cache-evict.decorator.js';
export { V8CacheSerializer } from './cache/serializers/v8.serializer.js';
export { TaggedJsonCacheSerializer } from './cache/serializers/tagged-json.serializer.js';
export type { CacheSerializer } from './cache/serializers/cache-serializer.interface.js';
export { RedisKeyvStore } from './cache/keyv/redis-keyv.store.js';
export type {
  CacheableOptions,
  CacheCounters,
  CacheEvictOptions,
  CacheModuleOptions,
  CachePutOptions,
  CacheServedInfo,
  CacheServedStatus,
  CacheWrapOptions,
  ResolvedCacheOptions,
} from './interfaces/cache-options.interface.js';
export { createMethodDecorator } from './method-decorators/create-method-decorator.js';
export { Aspect } from './method-decorators/aspect.decorator.js';
export type { AnyMethod, MethodAspect, MethodWrapContext } from './method-decorators/method-aspect.interface.js';
export { MethodNotWrappedError } from './errors/method-not-wrapped.error.js';
