import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Why a term of leadership ended:
 * - `lost`: the lease was lost (expired, taken, Redis unreachable past its validity); `cause` is the `LockLostError`;
 * - `shutdown`: this process stepped down at application shutdown (the lease was handed to the next candidate);
 * - `stopped`: `LeaderService.stop()` was called.
 */
export type LeadershipLostReason = 'lost' | 'shutdown' | 'stopped';

/**
 * The reason of a term's `signal` when the term ends: work done as the leader must stop, and its writes carry the
 * term's `fencingToken` so a store can refuse them once a newer leader wrote.
 */
export class LeadershipLostError extends RedisToolkitError {
  static readonly code = 'E_LEADERSHIP_LOST';

  constructor(
    message: string,
    /** The election's name. */
    readonly election: string,
    readonly reason: LeadershipLostReason,
    /** The fencing token of the term that ended. */
    readonly fencingToken: number,
    cause?: unknown,
  ) {
    super(message, LeadershipLostError.code, { election, reason, fencingToken }, { cause });
  }
}
