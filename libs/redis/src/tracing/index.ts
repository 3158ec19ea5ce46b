/**
 * `@localcloudlab/nest-redis/tracing`: OpenTelemetry spans (`@opentelemetry/api`). A separate entry point, and the
 * API is loaded only when `RedisTracingModule` starts, so that apps without `@opentelemetry/api` load the library
 * (this entry point included) and pay nothing for tracing.
 */
export { RedisTracingModule } from './redis-tracing.module.js';
export type { RedisTracingOptions } from './redis-tracing-options.interface.js';
export { TRACER_NAME } from './tracing.constants.js';
