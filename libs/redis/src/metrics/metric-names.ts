/**
 * Every metric the library exports, without the prefix (default `nest_redis_`). The Grafana dashboard under
 * `deploy/` queries these names; a test checks that each one it uses is listed here and really exported.
 */
export const METRIC_NAMES = {
  cacheHits: 'cache_hits_total',
  cacheMisses: 'cache_misses_total',
  cacheStale: 'cache_stale_total',
  cacheErrors: 'cache_errors_total',
  cacheLoads: 'cache_loads_total',
  cacheLoadDuration: 'cache_load_duration_seconds',
  lockAcquisitions: 'lock_acquisitions_total',
  lockFailures: 'lock_failures_total',
  lockLosses: 'lock_losses_total',
  lockWait: 'lock_wait_seconds',
  transportHandled: 'transport_messages_handled_total',
  transportFailed: 'transport_messages_failed_total',
  transportDeadLettered: 'transport_messages_dead_lettered_total',
  transportHandlerDuration: 'transport_handler_duration_seconds',
  transportConsumerLag: 'transport_consumer_lag',
  rateLimitAllowed: 'rate_limit_allowed_total',
  rateLimitRejected: 'rate_limit_rejected_total',
  rateLimitErrors: 'rate_limit_errors_total',
  connectionErrors: 'connection_errors_total',
  connectionReconnects: 'connection_reconnects_total',
  untrustedInputRejected: 'untrusted_input_rejected_total',
} as const;

/** @default 'nest_redis_' */
export const DEFAULT_METRICS_PREFIX = 'nest_redis_';
