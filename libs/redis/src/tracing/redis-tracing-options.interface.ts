import type { TracerProvider } from '@opentelemetry/api';

/** Options of `RedisTracingModule.forRoot()`. */
export interface RedisTracingOptions {
  /**
   * Where spans go. Leave it out to use the global provider your OpenTelemetry SDK registered (`NodeSDK`,
   * `NodeTracerProvider#register()`); with none registered, nothing is recorded.
   * @default trace.getTracerProvider()
   */
  tracerProvider?: TracerProvider;
  /**
   * Put the cache key (the name after the module's prefix, never the value) on cache lookup spans as
   * `nest_redis.cache.key`. Turn it off when keys hold personal data.
   * @default true
   */
  recordCacheKeys?: boolean;
}
