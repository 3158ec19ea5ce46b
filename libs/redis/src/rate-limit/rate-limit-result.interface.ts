/** The answer of `RateLimiter.consume`. */
export interface RateLimitResult {
  /** Whether the call may proceed (its cost was counted). */
  allowed: boolean;
  /** Units still available right after this decision (0 when refused for lack of them). */
  remaining: number;
  /** When refused: ms until a call of the same cost may be allowed; 0 when allowed. */
  retryAfterMs: number;
  /** Ms until the key's count is back to its full capacity (window end, or bucket full). */
  resetMs: number;
  /**
   * Redis failed or was too slow, so the limit's `failurePolicy` decided: `allowed` is true for `fail-open`
   * (`remaining` is then the capacity minus the cost, a guess) and false for `fail-closed` (`retryAfterMs` is the
   * limit's `commandTimeout`).
   */
  degraded: boolean;
}
