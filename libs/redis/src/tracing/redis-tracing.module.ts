import { type DynamicModule, Module } from '@nestjs/common';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { fail, optionalObject } from '../options/option-checks.js';
import { loadOtelApi } from './otel-api.loader.js';
import type { RedisTracingOptions } from './redis-tracing-options.interface.js';
import { RedisTracing, type ResolvedTracingOptions } from './redis-tracing.service.js';
import { REDIS_TRACING_OPTIONS, TRACER_NAME } from './tracing.constants.js';

function resolveTracingOptions(raw: unknown): ResolvedTracingOptions & Pick<RedisTracingOptions, 'tracerProvider'> {
  const options = optionalObject(raw, 'tracing') ?? {};
  const provider = options.tracerProvider as { getTracer?: unknown } | undefined;
  if (provider !== undefined && (provider === null || typeof provider.getTracer !== 'function')) {
    fail('tracing.tracerProvider', 'an OpenTelemetry TracerProvider (with getTracer())', provider);
  }
  const recordCacheKeys = options.recordCacheKeys ?? true;
  if (typeof recordCacheKeys !== 'boolean') fail('tracing.recordCacheKeys', 'true or false', recordCacheKeys);
  return { tracerProvider: provider as RedisTracingOptions['tracerProvider'], recordCacheKeys };
}

/**
 * OpenTelemetry traces for everything `RedisModule` does: cache lookups, lock waits and holds, rate-limit
 * decisions, and the transport's sends, emits and handler runs, with the W3C trace context carried in the packet so
 * that a worker's handler span is the child of the API's `send`/`emit` span. Import it next to `RedisModule`, and
 * register an OpenTelemetry SDK as usual (with none registered, nothing is recorded).
 *
 * `@opentelemetry/api` is an optional peer, loaded when the module starts: install it to use this module.
 *
 * @example
 * ```ts
 * @Module({ imports: [RedisModule.forRoot({ url }), RedisTracingModule.forRoot()] })
 * export class AppModule {}
 * ```
 */
@Module({})
export class RedisTracingModule {
  /**
   * Traces the application's `RedisModule` (its instrumentation hub): global, import it once.
   * @param options where spans go (the global provider by default) and whether cache keys are recorded
   * @throws RedisOptionsError naming the offending field
   */
  static forRoot(options: RedisTracingOptions = {}): DynamicModule {
    const resolved = resolveTracingOptions(options);
    return {
      module: RedisTracingModule,
      global: true,
      providers: [
        { provide: REDIS_TRACING_OPTIONS, useValue: resolved },
        {
          provide: RedisTracing,
          inject: [RedisInstrumentation],
          useFactory: async (instrumentation: RedisInstrumentation) => {
            const api = await loadOtelApi();
            const provider = resolved.tracerProvider ?? api.trace.getTracerProvider();
            const tracing = new RedisTracing(api, provider.getTracer(TRACER_NAME), instrumentation, resolved);
            tracing.start();
            return tracing;
          },
        },
      ],
    };
  }
}
