import type { Registry } from 'prom-client';

/** Options of `RedisMetricsModule.forRoot()`. */
export interface RedisMetricsOptions {
  /**
   * Registry to register the metrics on, e.g. the one your `/metrics` endpoint already serves.
   * @default a new Registry owned by the module
   */
  registry?: Registry;
  /**
   * Prefix of every metric name.
   * @default 'nest_redis_'
   */
  prefix?: string;
  /**
   * Histogram buckets for durations, in seconds.
   * @default [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  durationBuckets?: number[];
  /**
   * Serve the metrics at this path (`GET`, Prometheus text format in the registry's content type), e.g. `'/metrics'`.
   * Nest's global prefix applies. Leave it out to serve the registry yourself (`REDIS_METRICS_REGISTRY`), or to keep
   * metrics off the public port.
   * @default not served
   */
  path?: string;
}

/** A source of consumer lag (the streams transport registers one per server). */
export type { ConsumerLagSource } from '../instrumentation/redis-instrumentation.events.js';
