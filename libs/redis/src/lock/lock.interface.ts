import type { RedisClient } from '../connection/redis-connection.factory.js';

/**
 * A held lock, returned by `LockService.acquire` / `tryAcquire` and passed to `using` callbacks and `@WithLock`
 * methods.
 */
export interface Lock {
  /** The resource name, as given (without the key prefix). */
  readonly resource: string;
  /** Random owner token, unique to this acquisition; only it can extend or release the lock. */
  readonly token: string;
  /**
   * Strictly greater than the fencing token of every earlier acquisition of this resource (see the README for the
   * exact guarantee per mode). Pass it to the store you protect and have it reject writes carrying a lower token
   * than one it has seen: a holder that lost its lock without noticing cannot overwrite newer data.
   */
  readonly fencingToken: number;
  /** Local time (epoch ms) until which the lock is safely held: last grant or extension + ttl − drift. */
  readonly expiresAt: number;
  /**
   * Aborts with `LockLostError` when the lock is lost (taken away, expired, or `maxHoldTime` reached); never
   * aborts after a normal `release()`. Hand it to the work done under the lock.
   */
  readonly signal: AbortSignal;
  /**
   * Extends the lock to `ttl` ms from now (the acquisition's ttl by default).
   * @throws LockLostError when the lock is no longer ours (and `signal` aborts)
   */
  extend(ttl?: number): Promise<void>;
  /**
   * Releases the lock if it is still ours; never touches a lock another owner holds. The watchdog stops at once;
   * Redis is waited for at most `lock.releaseTimeout` (default 1 s).
   * @returns `true` when it was still ours, `false` when it had been lost or already released
   * @throws RedisToolkitError with code `E_LOCK_RELEASE_TIMEOUT` when Redis (a Redlock majority) did not answer in
   *   time: the lock then expires after its ttl (a late release is harmless, it is owner-checked)
   */
  release(): Promise<boolean>;
}

/**
 * Locks held on several resources at once, returned by `LockService.acquire([...])` / `tryAcquire([...])` and
 * passed to `using([...])` callbacks. All-or-nothing: it exists only when every resource is held. Each resource
 * keeps its own lock (its own token, fencing token and renewal); this handle extends, releases and watches them
 * together.
 */
export interface MultiLock {
  /** The resources, deduplicated and in canonical order (the order they were acquired in). */
  readonly resources: readonly string[];
  /** The lock of each resource, in the order of {@link resources}. */
  readonly locks: readonly Lock[];
  /**
   * The fencing token of each resource (see {@link Lock.fencingToken}): pass the token of each resource to the store
   * that holds that resource's data.
   */
  readonly fencingTokens: Readonly<Record<string, number>>;
  /** The earliest `expiresAt` of the resources' locks: until then every one of them is safely held. */
  readonly expiresAt: number;
  /** Aborts with the `LockLostError` of the first resource whose lock is lost; never after a normal `release()`. */
  readonly signal: AbortSignal;
  /**
   * Extends every resource's lock to `ttl` ms from now (the acquisition's ttl by default), in parallel.
   * @throws LockLostError when any of them is no longer ours (and `signal` aborts)
   */
  extend(ttl?: number): Promise<void>;
  /**
   * Releases every resource's lock (in parallel, owner-checked), each waiting at most `lock.releaseTimeout`.
   * @returns `true` when every one was still ours
   * @throws RedisToolkitError `E_LOCK_RELEASE_TIMEOUT` (after all releases settled) when Redis did not answer for
   *   one of them: that one expires after its ttl
   */
  release(): Promise<boolean>;
}

/**
 * A connection locks are taken on, as `LockService.nodes()` lists them: each Redlock node, or the module's main
 * connection in single-node mode. For health checks; the address never holds a password.
 */
export interface LockNode {
  /** `lock-node-<i>` for a Redlock node, the connection name (`'default'`) in single-node mode. */
  readonly label: string;
  /** Redacted address (`redis://user@host:6379/0`), as logs show it: never a password. */
  readonly address: string;
  /**
   * The node's own ioredis client. Redlock node clients have no offline queue, so a command to a node that is down
   * fails at once instead of waiting for it to come back.
   */
  readonly client: RedisClient;
}
