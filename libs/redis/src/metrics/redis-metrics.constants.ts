/** Injection token of the prom-client `Registry` the library's metrics live on. */
export const REDIS_METRICS_REGISTRY = '@localcloudlab/nest-redis:metrics-registry';

/** Internal: the validated metrics options. */
export const REDIS_METRICS_OPTIONS = '@localcloudlab/nest-redis:metrics-options';
