/**
 * `@localcloudlab/nest-redis/transport`: the Redis transport for `@nestjs/microservices`. A separate entry point (as
 * `/health` and `/metrics` are), so that `@nestjs/microservices` stays an optional peer of the main one.
 */
export { RedisTransportServer } from './server/redis-transport.server.js';
export type { ConsumerLagRegistry, RedisTransportModuleOptions } from './server/redis-transport-server.options.js';
export type { RedisStreamInfo } from './streams/redis-streams.info.js';
export { RedisTransportClient } from './client/redis-transport.client.js';
export {
  RedisTransportStatus,
  type RedisTransportClients,
  type RedisTransportConnectionRole,
  type RedisTransportEvents,
} from './redis-transport.events.js';
export type {
  RedisStreamsDurabilityOptions,
  RedisStreamsOptions,
  RedisTransportMode,
  RedisTransportOptions,
} from './options/redis-transport-options.interface.js';
export { JsonTransportCodec, type RedisTransportCodec } from './codec/redis-transport.codec.js';
export { RedisPubSubContext } from './pubsub/redis-pubsub.context.js';
export { RedisStreamsContext } from './streams/redis-streams.context.js';
export {
  RedisIdempotency,
  type IdempotentResult,
  type RedisIdempotencyOptions,
} from './idempotency/redis-idempotency.js';
export { RedisTransportTimeoutError } from '../errors/redis-transport-timeout.error.js';
export { RedisTransportClosedError } from '../errors/redis-transport-closed.error.js';
export { RedisTransportPayloadTooLargeError } from '../errors/redis-transport-payload-too-large.error.js';
export { IdempotencyInProgressError } from '../errors/idempotency-in-progress.error.js';
