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
