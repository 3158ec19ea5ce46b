import type { RedisConnectionOptions } from '../interfaces/redis-connection-options.interface.js';
import type { ResolvedRedisConnection } from '../interfaces/resolved-redis-options.interface.js';

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

/** A Redlock node: a `redis://` URL or connection options (`url`, `redisOptions`, credentials; no Sentinel/Cluster). */
export type LockNodeOptions = string | Pick<RedisConnectionOptions, 'url' | 'username' | 'password' | 'redisOptions'>;

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
}
