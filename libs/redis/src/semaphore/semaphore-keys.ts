import type { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import type { LockKeys } from '../lock/lock-keys.js';

/**
 * The Redis keys of one semaphore, all under the `{name}` hash tag (one Cluster slot), in the shape a lock handle
 * carries to its backend: `lock` is the holders ZSET. `permits` travels with them, so a release hands over exactly
 * the permits that are free.
 */
export interface SemaphoreKeys extends LockKeys {
  /** Holder token → its fencing token (HASH). */
  fences: string;
  /** How many holders the semaphore admits. */
  permits: number;
}

/** Builds a semaphore's keys through the module keyspace: `<prefix>semaphore:{<name>}…`. */
export function semaphoreKeys(keyspace: RedisKeyspace, name: string, permits: number): SemaphoreKeys {
  const base = keyspace.key('semaphore', `{${name}}`);
  return {
    lock: `${base}:holders`,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    leases: `${base}:leases`,
    fences: `${base}:fences`,
    permits,
  };
}

/** The pub/sub channel prefix hand-overs are published on (namespaced by `keyPrefix`). */
export function semaphoreWakeChannel(keyspace: RedisKeyspace): string {
  return keyspace.key('semaphore', 'wake');
}
