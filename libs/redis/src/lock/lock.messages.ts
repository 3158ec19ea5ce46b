import type { LockNotAcquiredReason } from '../errors/lock-not-acquired.error.js';
import type { LockLostReason } from '../errors/lock-lost.error.js';

/** Message builders of the lock feature. Resources are names chosen by the application, never secrets. */

const NOT_ACQUIRED_BECAUSE: Record<LockNotAcquiredReason, string> = {
  contention: 'it stayed held by another owner',
  'no-quorum': 'no majority of the Redlock nodes granted it (nodes unreachable or split between contenders)',
  unreachable: 'Redis did not answer',
  aborted: 'the wait was aborted',
};

export const LOCK_NOT_ACQUIRED = (resource: string, waitedMs: number, reason: LockNotAcquiredReason): string =>
  `Lock "${resource}" not acquired after ${waitedMs} ms: ${NOT_ACQUIRED_BECAUSE[reason]}.`;

const LOST_BECAUSE: Record<LockLostReason, string> = {
  taken: 'Redis no longer holds it under our token (expired, deleted, or taken by another owner)',
  expired: 'its validity ran out before an extension succeeded',
  'max-hold-time': 'it was held for maxHoldTime and auto-extension stopped',
};

export const LOCK_LOST = (resource: string, fencingToken: number, reason: LockLostReason): string =>
  `Lock "${resource}" (fencing token ${fencingToken}) was lost: ${LOST_BECAUSE[reason]}.`;

export const LOCK_EXTEND_FAILED = (resource: string, reason: string): string =>
  `Lock "${resource}" could not be extended: ${reason}.`;

export const LOCK_RELEASE_TIMED_OUT = (resource: string, timeoutMs: number): string =>
  `Lock "${resource}" could not be released: Redis did not answer within ${timeoutMs} ms; it expires after its ttl.`;

export const LOCK_RELEASED = (resource: string): string => `Lock "${resource}" was already released; acquire it again.`;

export const LOCK_NODE_FAILED = (label: string, target: string, reason: string): string =>
  `Redlock node "${label}" (${target}) failed: ${reason}; reconnecting.`;

export const LOCK_NOT_REPLICATED = (resource: string, acked: number, replicas: number, timeoutMs: number): string =>
  `Lock "${resource}" was granted but only ${acked} of ${replicas} replica(s) acknowledged it within lock.durability.timeout ${timeoutMs} ms; it was released (a failover could grant it again).`;
