/** What one indicator reports under its key: up, or down with a message that never holds an address or secret. */
export type HealthIndicatorStatus = { status: 'up' } | { status: 'down'; message: string };

/** One indicator's result, keyed as terminus keys it (`{ redis: { status: 'up' } }`). */
export type HealthIndicatorResult<Key extends string = string> = Record<Key, HealthIndicatorStatus>;

/**
 * Body of `GET /health`, in the shape `@nestjs/terminus` uses so that swapping it in later keeps the contract:
 * `ok` with every indicator under `info` (200), or `error` with the failing ones under `error` (503).
 */
export type HealthCheckResult =
  { status: 'ok'; info: HealthIndicatorResult } | { status: 'error'; error: HealthIndicatorResult };
