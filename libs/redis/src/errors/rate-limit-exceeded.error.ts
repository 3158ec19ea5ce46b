import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Why a call was refused:
 * - `limit`: the limit is used up for this key (Redis answered);
 * - `unavailable`: Redis failed or did not answer within the limit's `commandTimeout`, and the limit is
 *   `fail-closed`.
 */
export type RateLimitExceededReason = 'limit' | 'unavailable';

/**
 * A rate-limited call was refused (by `@RateLimit` or `RateLimiter.consumeOrThrow`): the protected code did not run.
 * `retryAfterMs` says when the same call may succeed (for `unavailable`, a guess: the limit's `commandTimeout`).
 */
export class RateLimitExceededError extends RedisToolkitError {
  static readonly code = 'E_RATE_LIMIT_EXCEEDED';

  constructor(
    message: string,
    /** The name of the limit, as configured in `RateLimitModule.forRoot({ limits })`. */
    readonly limit: string,
    /** The key the limit was counted on (without the key prefix). */
    readonly key: string,
    /** Milliseconds until a call of the same cost may be allowed. */
    readonly retryAfterMs: number,
    readonly reason: RateLimitExceededReason,
    cause?: unknown,
  ) {
    super(message, RateLimitExceededError.code, { limit, key, retryAfterMs, reason }, { cause });
  }
}
