import type { RedisModuleOptions } from '@app/redis';

/** Where booking-api keeps venues, slots and bookings. */
export interface DatabaseConfig {
  /**
   * PostgreSQL connection string (`DATABASE_URL`). When unset the API runs an embedded, in-memory PGlite: same SQL,
   * one process only (replicas need a shared database).
   * @default undefined
   */
  url?: string;
  /**
   * Schema the tables live in (`DATABASE_SCHEMA`); created by the migrations when missing.
   * @default undefined (the server's `search_path`, usually `public`)
   */
  schema?: string;
  /**
   * Connections in the pool (`DATABASE_POOL_SIZE`).
   * @default 10
   */
  poolSize: number;
  /**
   * `DATABASE_SINGLE_SESSION=true` when the server behind `url` is one session shared by every client, as an
   * embedded PGlite served by `@electric-sql/pglite-socket` is: every statement then runs inside a transaction, the
   * only unit that server keeps clients from interleaving.
   * @default false
   */
  singleSession: boolean;
}

/** Everything booking-api reads from its environment, parsed and defaulted once at startup. */
export interface ApiConfig {
  /**
   * HTTP port (`PORT`).
   * @default 3000
   */
  port: number;
  /**
   * Port of the management side (`MANAGEMENT_PORT`): `/metrics`, `/docs` and the health details. Keep it off the
   * Service and Ingress; Prometheus scrapes it on the pod. Must differ from `port`.
   * @default 9000
   */
  managementPort: number;
  /**
   * Options for `RedisModule`: `url` from `REDIS_URL` (or `sentinels` + `name` from `REDIS_SENTINELS` +
   * `REDIS_SENTINEL_NAME`), `keyPrefix` from `REDIS_KEY_PREFIX`, `password` from
   * `REDIS_PASSWORD` (overrides one in the URL), and `cache.l1.maxEntries` from `CACHE_L1_MAX_ENTRIES` (an
   * in-process L1 in front of Redis; off when unset or 0). The library validates them and never logs a password.
   */
  redis: RedisModuleOptions;
  /** The store: PostgreSQL or embedded PGlite. */
  database: DatabaseConfig;
  /**
   * `SEED_DEMO_DATA=true` inserts the demo venues and today's slots at startup (idempotent: fixed ids).
   * @default false
   */
  seedDemoData: boolean;
  /**
   * How long `POST /bookings` and `DELETE /bookings/:id` wait for the slot's lock before answering 423
   * (`BOOKING_LOCK_WAIT_MS`).
   * @default 10000
   */
  bookingLockWaitMs: number;
  /**
   * How long a seat hold (`POST /holds`) keeps its seats before the worker releases them (`HOLD_TTL_MS`).
   * @default 300000 (5 minutes)
   */
  holdTtlMs: number;
  /**
   * How long the simulated payment step of a hold confirmation takes (`PAYMENT_DELAY_MS`); at most
   * `PAYMENT_PERMITS` calls run at once across every replica.
   * @default 200
   */
  paymentDelayMs: number;
  /**
   * Replicas that must acknowledge each booking event before it counts as published (`BOOKING_EVENTS_REPLICAS`; the
   * transport's `streams.durability.replicas`, 0 for off). On a Sentinel group or Cluster with replicas, an event
   * acknowledged by a master that a failover then demotes is lost; with this the publish fails instead and the outbox
   * retries it. Startup fails when the master has fewer replicas.
   * @default 0
   */
  bookingEventsReplicas: number;
  /**
   * Per-client limit of `POST /holds` and of `POST /bookings`, each counted across every replica: `limit` requests
   * (`RATE_LIMIT_LIMIT`) per window of `windowMs` (`RATE_LIMIT_WINDOW_MS`); a client over it is refused with 429
   * for one window. The client is the `X-Client-Id` header, else the remote address.
   * @default { limit: 20, windowMs: 60000 }
   */
  rateLimit: { limit: number; windowMs: number };
}
