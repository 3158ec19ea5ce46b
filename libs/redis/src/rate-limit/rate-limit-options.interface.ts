/**
 * What a limit does when Redis fails or does not answer within `commandTimeout`:
 * - `fail-open`: the call is allowed (a warning is logged, rate-limited, and counted as an error);
 * - `fail-closed`: the call is refused (`allowed: false`, or `RateLimitExceededError` with reason `unavailable`).
 */
export type RateLimitFailurePolicy = 'fail-open' | 'fail-closed';

/** Settings every limit (and the throttler storage) may override. */
export interface RateLimitPolicyOptions {
  /**
   * Behaviour when Redis is down or slow.
   * @default the module's `failurePolicy` ('fail-open')
   */
  failurePolicy?: RateLimitFailurePolicy;
  /**
   * How long one decision waits for Redis, in ms, before the failure policy applies.
   * @default the module's `commandTimeout` (250)
   */
  commandTimeout?: number;
}

/**
 * At most `limit` units per window of `window` ms that starts with the first call of a key (one counter, cheapest).
 * A burst of 2 × `limit` is possible across a window boundary.
 */
export interface FixedWindowLimit extends RateLimitPolicyOptions {
  algorithm: 'fixed-window';
  /** Units allowed per window (a positive integer). */
  limit: number;
  /** Window length in ms. */
  window: number;
}

/**
 * At most about `limit` units in any `window` ms: the two-window approximation (the previous window's count,
 * weighted by how much of it still overlaps the sliding window, plus the current window's count; windows aligned on
 * Redis' clock). Smooths the fixed window's boundary burst with two numbers per key instead of a log of every call.
 */
export interface SlidingWindowLimit extends RateLimitPolicyOptions {
  algorithm: 'sliding-window';
  /** Units allowed per sliding window (a positive integer). */
  limit: number;
  /** Window length in ms. */
  window: number;
}

/**
 * A token bucket, computed with GCRA (one timestamp per key): up to `burst` units at once, refilled at `rate` units
 * per `period` ms (the sustained rate).
 */
export interface TokenBucketLimit extends RateLimitPolicyOptions {
  algorithm: 'token-bucket';
  /** Bucket capacity: units allowed at once after a quiet period (a positive integer). */
  burst: number;
  /** Units refilled per `period` (a positive number). */
  rate: number;
  /**
   * Refill period in ms.
   * @default 1000
   */
  period?: number;
}

/** One named limit of `RateLimitModule.forRoot({ limits })`. */
export type RateLimitDefinition = FixedWindowLimit | SlidingWindowLimit | TokenBucketLimit;

/** Options of `RateLimitModule.forRoot` / `forRootAsync`. */
export interface RateLimitModuleOptions {
  /**
   * The RedisModule connection counters live on (its `keyPrefix` applies).
   * @default 'default'
   */
  connection?: string;
  /**
   * Default failure policy of every limit and of the throttler storage.
   * @default 'fail-open'
   */
  failurePolicy?: RateLimitFailurePolicy;
  /**
   * Default deadline of one decision, in ms (between 1 and 60000).
   * @default 250
   */
  commandTimeout?: number;
  /**
   * Named limits for `RateLimiter` and `@RateLimit`.
   * @default {}
   */
  limits?: Record<string, RateLimitDefinition>;
  /**
   * Policy of `RedisThrottlerStorage` (the storage for `@nestjs/throttler`); the limits themselves come from the
   * ThrottlerModule's options.
   * @default the module defaults
   */
  throttler?: RateLimitPolicyOptions;
}

/** A limit once validated: every field present, times in ms. */
export type ResolvedRateLimit =
  | {
      name: string;
      algorithm: 'fixed-window' | 'sliding-window';
      limit: number;
      window: number;
      policy: ResolvedPolicy;
    }
  | { name: string; algorithm: 'token-bucket'; burst: number; rate: number; period: number; policy: ResolvedPolicy };

/** A failure policy once validated. */
export interface ResolvedPolicy {
  failurePolicy: RateLimitFailurePolicy;
  commandTimeout: number;
}

/** `RateLimitModule` options once validated. */
export interface ResolvedRateLimitOptions {
  connection: string;
  limits: ReadonlyMap<string, ResolvedRateLimit>;
  throttler: ResolvedPolicy;
  /** The shortest `commandTimeout` of all (sets how often deadlines are checked). */
  shortestTimeout: number;
}
