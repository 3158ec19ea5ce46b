import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * How a held lock was lost:
 * - `taken`: Redis says another owner holds it now, or nobody does (expired, deleted, flushed);
 * - `expired`: its validity ran out before an extension succeeded (Redis unreachable or too slow);
 * - `max-hold-time`: auto-extension stopped at `maxHoldTime` and the lock ran out.
 */
export type LockLostReason = 'taken' | 'expired' | 'max-hold-time';

/**
 * A held lock stopped being ours before it was released. It is the `reason` of the lock's `signal` when that
 * aborts, and what `extend()` throws when the lock is gone. Work still running under the lock is no longer
 * protected: stop it, and let the fencing token reject its late writes.
 */
export class LockLostError extends RedisToolkitError {
  static readonly code = 'E_LOCK_LOST';

  constructor(
    message: string,
    readonly resource: string,
    readonly reason: LockLostReason,
    /** The fencing token of the acquisition that was lost. */
    readonly fencingToken: number,
    cause?: unknown,
  ) {
    super(message, LockLostError.code, { resource, reason, fencingToken }, { cause });
  }
}
