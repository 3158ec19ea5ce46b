import type { RedisConnectionOptions } from '../connection/redis-connection-options.interface.js';
import type { ResolvedRedisConnection } from '../connection/resolved-redis-connection.interface.js';

/**
 * Per-call lock options (`acquire`, `tryAcquire`, `using`, `@WithLock`). Unset fields take the module's `lock`
 * defaults. Durations are in milliseconds.
 */
export interface LockOptions {
  /**
   * Lifetime of the lock in Redis. With `autoExtend` it is renewed every `ttl / 3` while held, so it only bounds how
   * long a crashed holder blocks the others.
   * @default 10000
   */
  ttl?: number;
  /**
   * How long `acquire` keeps waiting for a busy lock before it throws `LockNotAcquiredError`; `0` makes one attempt.
   * `tryAcquire` always uses `0`.
   * @default 10000
   */
  waitTimeout?: number;
  /**
   * Fallback poll interval while waiting. Waiters are woken when the lock is released (single node: handed over in
   * FIFO order; Redlock: notified), so polling only matters when a holder crashed and its lock has to expire.
   * @default 100
   */
  retryDelay?: number;
  /**
   * Random extra delay added to each retry, up to this many ms, so contenders spread out.
   * @default 50
   */
  retryJitter?: number;
  /**
   * Renew the lock in the background while it is held (watchdog). When a renewal fails or the lock runs out, the
   * lock's `signal` aborts with `LockLostError`.
   * @default true
   */
  autoExtend?: boolean;
  /**
   * Upper bound on how long auto-extension keeps a lock, counted from acquisition: a stuck holder cannot keep it
   * forever. The lock then runs out and `signal` aborts with `LockLostError` (`reason: 'max-hold-time'`).
   * @default 300000
   */
  maxHoldTime?: number;
  /** Aborts the wait (not a lock already held): `acquire` rejects with `LockNotAcquiredError` (`reason: 'aborted'`). */
  signal?: AbortSignal;
}

/**
 * A Redlock node: a `redis://` URL or connection options (`url`, `redisOptions`, credentials, `connectTimeout`; no
 * Sentinel/Cluster).
 */
export type LockNodeOptions =
  | string
  | Pick<RedisConnectionOptions, 'url' | 'username' | 'password' | 'credentials' | 'redisOptions' | 'connectTimeout'>;

/** The module's `lock` options: defaults for every lock, and the Redlock nodes. */
export interface LockModuleOptions extends Omit<LockOptions, 'signal'> {
  /**
   * Clock drift allowance, as a fraction of `ttl`: a lock is considered valid for `ttl − elapsed − ttl × driftFactor
   * − 2 ms` from the start of the attempt that acquired it.
   * @default 0.01
   */
  driftFactor?: number;
  /**
   * How long `release()` (also the one `using` and `@WithLock` run after the work) waits for Redis (for a Redlock
   * majority). When Redis is down or paused, release then rejects with `E_LOCK_RELEASE_TIMEOUT` instead of
   * waiting for it to come back; the watchdog is already stopped, and the lock expires after its `ttl`.
   * @default 1000
   */
  releaseTimeout?: number;
  /**
   * Independent Redis masters for Redlock (3 or 5 is usual). A lock is held when a majority granted it within its
   * validity. When omitted, locks live on the module's main connection (single-node mode).
   * @default undefined
   */
  nodes?: LockNodeOptions[];
  /**
   * Makes each acquisition wait, once Redis granted the lock, until `replicas` replicas of the master holding it
   * acknowledged the grant (`WAIT`; with `fsync`, `WAITAOF`, Redis 7.2 or later). Fewer within `timeout`: the lock
   * is released and the call rejects with code `E_LOCK_NOT_REPLICATED` (fails closed), since a failover could hand
   * the lock to someone else. Single-node, Sentinel and Cluster modes; not with `nodes` (Redlock does not rely on
   * replicas). Startup fails, naming the field, when a master has too few replicas, or for `fsync` before Redis 7.2.
   * @default undefined (the grant alone)
   */
  durability?: { replicas: number; timeout?: number; fsync?: boolean };
}

/** The `lock` options after validation. */
export interface ResolvedLockOptions {
  ttl: number;
  waitTimeout: number;
  retryDelay: number;
  retryJitter: number;
  autoExtend: boolean;
  maxHoldTime: number;
  driftFactor: number;
  releaseTimeout: number;
  /** Redlock nodes, resolved like any connection; empty in single-node mode. */
  nodes: ResolvedRedisConnection[];
  /** `durability` with its defaults, or `undefined`. */
  durability?: { replicas: number; timeout: number; fsync: boolean };
}
