import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Redis could not decide a rate-limit hit in time (not connected, an error, or no answer within `commandTimeout`).
 * Internal to rate limiting: callers get the limit's `failurePolicy` instead (open lets the request through,
 * closed refuses it); it is what the degraded warning reports.
 */
export class RateLimitUnavailableError extends RedisToolkitError {
  static readonly code = 'E_RATE_LIMIT_UNAVAILABLE';

  constructor(message: string, cause?: unknown) {
    super(message, RateLimitUnavailableError.code, {}, { cause });
  }
}
