import { REDIS_TRACING_NEEDS_API } from './tracing.messages.js';

/** The `@opentelemetry/api` module. */
export type OtelApi = typeof import('@opentelemetry/api');

/**
 * Loads `@opentelemetry/api` when `RedisTracingModule` starts, not when the entry point is imported: the peer is
 * optional, and `@localcloudlab/nest-redis/tracing` must load in apps that do not install it.
 * @throws Error naming the package to install, when it is missing
 */
export async function loadOtelApi(): Promise<OtelApi> {
  try {
    return await import('@opentelemetry/api');
  } catch (error) {
    throw new Error(REDIS_TRACING_NEEDS_API, { cause: error });
  }
}
