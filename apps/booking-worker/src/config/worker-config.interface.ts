import type { RedisModuleOptions } from '@app/redis';
import type { DatabaseConfig } from '../../../booking-api/src/config/api-config.interface.js';

/** Everything booking-worker reads from its environment, parsed and defaulted once at startup. */
export interface WorkerConfig {
  /**
   * HTTP port of the worker's health endpoint (`WORKER_PORT`).
   * @default 3001
   */
  port: number;
  /**
   * Port of the management side (`WORKER_MANAGEMENT_PORT`): `/metrics` and the health details. Keep it off the
   * Service; Prometheus scrapes it on the pod. Must differ from `port`.
   * @default 9001
   */
  managementPort: number;
  /**
   * Bearer token that `GET /notifications/:bookingId` requires (`NOTIFICATIONS_TOKEN`, from a Secret): the
   * notifications hold customers' e-mail addresses. Unset: the route answers 401 to everyone.
   * @default undefined
   */
  notificationsToken?: string;
  /**
   * Options for `RedisModule`: `url` from `REDIS_URL` (or `sentinels` + `name` from `REDIS_SENTINELS` +
   * `REDIS_SENTINEL_NAME`), `keyPrefix` from `REDIS_KEY_PREFIX`, `password` from
   * `REDIS_PASSWORD` (overrides one in the URL). The library validates them and never logs a password.
   */
  redis: RedisModuleOptions;
  /**
   * This replica's name in the records of the scheduled jobs (`WORKER_ID`): which replica released which holds.
   * @default `<hostname>:<pid>` (the pod name in Kubernetes)
   */
  workerId: string;
  /**
   * booking-api's database (`DATABASE_URL`, `DATABASE_SCHEMA`, `DATABASE_POOL_SIZE`, `DATABASE_SINGLE_SESSION`,
   * read as the API reads them), where the hold-release job frees the seats of expired holds. Unset: the job idles.
   * @default undefined
   */
  database?: DatabaseConfig & { url: string };
}
