/** Metadata key of `@OncePerCluster` (the options, on the decorated method). */
export const ONCE_PER_CLUSTER_METADATA = '@localcloudlab/nest-redis:once-per-cluster';

/**
 * The metadata keys `@nestjs/schedule` (12.x) writes on a scheduled method. Read by value, so the library does not
 * load `@nestjs/schedule` itself (an optional peer).
 */
export const SCHEDULE_METADATA = {
  name: 'SCHEDULER_NAME',
  type: 'SCHEDULER_TYPE',
  cron: 'SCHEDULE_CRON_OPTIONS',
  interval: 'SCHEDULE_INTERVAL_OPTIONS',
  timeout: 'SCHEDULE_TIMEOUT_OPTIONS',
} as const;

/** `SchedulerType` of `@nestjs/schedule`. */
export const SCHEDULER_TYPES = { cron: 1, timeout: 2, interval: 3 } as const;

/** Default `maxClockSkew`, in ms. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5_000;
