/** The instrumentation scope of every span the library records. */
export const TRACER_NAME = '@localcloudlab/nest-redis';

/** Injection token of the resolved `RedisTracingOptions` (internal). */
export const REDIS_TRACING_OPTIONS = 'nest-redis:tracing-options';

/**
 * Attribute names: OpenTelemetry's semantic conventions for database clients (`db.*`) and messaging (`messaging.*`)
 * where they have a name for it, `nest_redis.*` for what is this library's own.
 */
export const ATTR = {
  dbSystem: 'db.system.name',
  dbOperation: 'db.operation.name',
  errorType: 'error.type',
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestination: 'messaging.destination.name',
  messagingMessageId: 'messaging.message.id',
  messagingConsumerGroup: 'messaging.consumer.group.name',
  cacheName: 'nest_redis.cache.name',
  cacheKey: 'nest_redis.cache.key',
  cacheOutcome: 'nest_redis.cache.outcome',
  cacheTier: 'nest_redis.cache.tier',
  lockResource: 'nest_redis.lock.resource',
  lockMode: 'nest_redis.lock.mode',
  lockOutcome: 'nest_redis.lock.outcome',
  lockWaitMs: 'nest_redis.lock.wait_ms',
  lockHeldMs: 'nest_redis.lock.held_ms',
  lockFencingToken: 'nest_redis.lock.fencing_token',
  transportPattern: 'nest_redis.transport.pattern',
  transportMode: 'nest_redis.transport.mode',
  transportAttempt: 'nest_redis.transport.attempt',
  rateLimitName: 'nest_redis.rate_limit.name',
  rateLimitKind: 'nest_redis.rate_limit.kind',
  rateLimitAllowed: 'nest_redis.rate_limit.allowed',
  rateLimitDegraded: 'nest_redis.rate_limit.degraded',
} as const;

/** `db.system.name` and `messaging.system` of every span. */
export const REDIS_SYSTEM = 'redis';
