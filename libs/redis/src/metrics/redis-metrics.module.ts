import { type DynamicModule, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { fail, optionalObject } from '../options/option-checks.js';
import type { RedisMetricsOptions } from './redis-metrics-options.interface.js';
import { DEFAULT_METRICS_PREFIX } from './metric-names.js';
import { REDIS_METRICS_OPTIONS, REDIS_METRICS_REGISTRY } from './redis-metrics.constants.js';
import { redisMetricsController } from './redis-metrics.controller.js';
import { RedisMetricsService, type ResolvedMetricsOptions } from './redis-metrics.service.js';

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function resolveMetricsOptions(raw: unknown): ResolvedMetricsOptions & { registry?: Registry; path?: string } {
  const options = optionalObject(raw, 'metrics') ?? {};
  const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    fail('metrics.prefix', 'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)');
  }
  const buckets = options.durationBuckets ?? DEFAULT_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b) => typeof b === 'number' && b > 0)) {
    fail('metrics.durationBuckets', 'a non-empty array of positive numbers (seconds)', buckets);
  }
  if (options.registry !== undefined && !(options.registry instanceof Registry)) {
    fail('metrics.registry', 'a prom-client Registry', options.registry);
  }
  if (
    options.path !== undefined &&
    (typeof options.path !== 'string' || !/^\/?[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(options.path))
  ) {
    fail('metrics.path', "an HTTP path such as '/metrics' (letters, digits, '.', '_', '~', '-' between slashes)");
  }
  return {
    prefix,
    durationBuckets: [...buckets].sort((a, b) => a - b),
    registry: options.registry as Registry | undefined,
    path: options.path as string | undefined,
  };
}

/**
 * Prometheus metrics for everything `RedisModule` does (cache, locks, transport, connections), on a prom-client
 * registry you can inject (`REDIS_METRICS_REGISTRY`) and serve. Import it next to `RedisModule`.
 *
 * With `path`, the module also serves them (`GET /metrics`, in the registry's content type):
 *
 * @example
 * ```ts
 * @Module({ imports: [RedisModule.forRoot({ url }), RedisMetricsModule.forRoot({ path: '/metrics' })] })
 * export class AppModule {}
 * ```
 *
 * Or serve the registry yourself:
 *
 * @example
 * ```ts
 * @Controller('metrics')
 * class MetricsController {
 *   constructor(private readonly metrics: RedisMetricsService) {}
 *   @Get() @Header('Content-Type', 'text/plain; version=0.0.4') scrape() { return this.metrics.metrics(); }
 * }
 * ```
 */
@Module({})
export class RedisMetricsModule {
  static forRoot(options: RedisMetricsOptions = {}): DynamicModule {
    const resolved = resolveMetricsOptions(options);
    return {
      module: RedisMetricsModule,
      global: true,
      providers: [
        { provide: REDIS_METRICS_OPTIONS, useValue: resolved },
        // A factory, not a value: forRoot() runs once per module file, and every app built from it (several in one
        // test process, say) must get a registry of its own.
        { provide: REDIS_METRICS_REGISTRY, useFactory: () => resolved.registry ?? new Registry() },
        RedisMetricsService,
      ],
      controllers: resolved.path === undefined ? [] : [redisMetricsController(resolved.path)],
      exports: [REDIS_METRICS_REGISTRY, RedisMetricsService],
    };
  }
}
