import type { RedisModuleOptions } from '@app/redis';

/** Everything booking-worker reads from its environment, parsed and defaulted once at startup. */
export interface WorkerConfig {
  /**
   * HTTP port of the worker's health endpoint (`WORKER_PORT`).
   * @default 3001
   */
  port: number;
  /**
   * Options for `RedisModule`: `url` from `REDIS_URL`, `keyPrefix` from `REDIS_KEY_PREFIX`, `password` from
   * `REDIS_PASSWORD` (overrides one in the URL). The library validates them and never logs a password.
   */
  redis: RedisModuleOptions;
}
