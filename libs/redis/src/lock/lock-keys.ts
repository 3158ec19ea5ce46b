import type { RedisKeyspace } from '../keyspace/redis-keyspace.js';

/** The Redis keys of one resource. They share the `{resource}` hash tag, so one script can touch them on Cluster. */
export interface LockKeys {
  /** Owner token, with the lock's TTL. */
  lock: string;
  /** Fencing counter (INCR on every grant; no TTL, so tokens keep increasing). */
  fence: string;
  /** FIFO list of waiting tokens (single node: hand-over order; Redlock: whom a release wakes). */
  queue: string;
  /** Waiting token → lease deadline: a waiter that stops polling drops out. */
  leases: string;
}

/** Builds a resource's keys through the module keyspace, so `keyPrefix` applies: `<prefix>lock:{<resource>}…`. */
export function lockKeys(keyspace: RedisKeyspace, resource: string): LockKeys {
  const lock = keyspace.key('lock', `{${resource}}`);
  return { lock, fence: `${lock}:fence`, queue: `${lock}:queue`, leases: `${lock}:leases` };
}

/** The pub/sub channel waiters listen on (namespaced by `keyPrefix`). */
export function lockWakeChannel(keyspace: RedisKeyspace): string {
  return keyspace.key('lock', 'wake');
}
