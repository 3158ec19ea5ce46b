/**
 * `@localcloudlab/nest-redis/health`: terminus health indicators. A separate entry point so that apps without
 * `@nestjs/terminus` can use the rest of the library.
 */
export { RedisHealthIndicator } from './redis.health.js';
export type { RedisHealthCheckOptions } from './redis-health-options.interface.js';
export { LockHealthIndicator } from './lock.health.js';
export type { LockHealthCheckOptions } from './lock-health-options.interface.js';
export { RedisTransportHealthIndicator } from './redis-transport.health.js';
export type { RedisTransportHealthCheckOptions } from './redis-transport-health-options.interface.js';
