/** `RedisTracingModule` was imported without its peer installed. */
export const REDIS_TRACING_NEEDS_API =
  'RedisTracingModule needs @opentelemetry/api (an optional peer of @localcloudlab/nest-redis): npm install @opentelemetry/api';
