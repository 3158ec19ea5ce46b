import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Why a lock was not acquired:
 * - `contention`: another owner held it for the whole `waitTimeout` (Redis answered, the lock was busy);
 * - `no-quorum`: Redlock only, fewer than a majority of the nodes granted it within the validity time, because
 *   nodes were unreachable or split between contenders;
 * - `unreachable`: single node, Redis did not answer (down, paused, or the connection is not ready);
 * - `aborted`: the caller's `signal` aborted the wait.
 */
export type LockNotAcquiredReason = 'contention' | 'no-quorum' | 'unreachable' | 'aborted';

/**
 * A lock could not be acquired within `waitTimeout`. `reason` tells contention (retry later, or raise
 * `waitTimeout`) from infrastructure trouble (`no-quorum`, `unreachable`): in every case the protected code did not
 * run.
 */
export class LockNotAcquiredError extends RedisToolkitError {
  static readonly code = 'E_LOCK_NOT_ACQUIRED';

  constructor(
    message: string,
    /** The resource name as given to the lock (without the key prefix). */
    readonly resource: string,
    readonly reason: LockNotAcquiredReason,
    /** How long the caller waited, in ms. */
    readonly waitedMs: number,
    cause?: unknown,
  ) {
    super(message, LockNotAcquiredError.code, { resource, reason, waitedMs }, { cause });
  }
}
