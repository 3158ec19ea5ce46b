/** Options of `@RateLimit`. */
export interface RateLimitOptions {
  /** The name of a limit configured in `RateLimitModule.forRoot({ limits })`. */
  limit: string;
  /** What is limited: a fixed string, or a function of the method's arguments returning one (a tenant, a user). */
  key: string | ((...args: never[]) => string);
  /**
   * Units one call uses: a number, or a function of the method's arguments returning one.
   * @default 1
   */
  cost?: number | ((...args: never[]) => number);
}
