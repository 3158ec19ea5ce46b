/**
 * `@localcloudlab/nest-redis/metrics`: Prometheus metrics (prom-client). A separate entry point so that apps
 * without `prom-client` can use the rest of the library.
 */
export { RedisMetricsModule } from './redis-metrics.module.js';
export { RedisMetricsService } from './redis-metrics.service.js';
export { REDIS_METRICS_REGISTRY } from './redis-metrics.constants.js';
export { METRIC_NAMES, DEFAULT_METRICS_PREFIX } from './metric-names.js';
export type { RedisMetricsOptions, ConsumerLagSource } from './redis-metrics-options.interface.js';
