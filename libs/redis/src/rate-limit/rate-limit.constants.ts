/** Metadata key of `@RateLimit` (read by `RateLimitAspect`). */
export const RATE_LIMIT_METADATA = '@localcloudlab/nest-redis:rate-limit';

/** Internal: injection token of the resolved `RateLimitModule` options. */
export const RATE_LIMIT_RESOLVED_OPTIONS = '@localcloudlab/nest-redis:rate-limit-resolved-options';

/** Internal: injection token of the script runner shared by the throttler storage and the rate limiter. */
export const RATE_LIMIT_SCRIPT_RUNNER = '@localcloudlab/nest-redis:rate-limit-script-runner';

/** Key namespace of `RateLimiter` counters: `<keyPrefix>rate-limit:{<limit>:<key>}`. */
export const RATE_LIMIT_NAMESPACE = 'rate-limit';

/** Key namespace of `RedisThrottlerStorage` counters: `<keyPrefix>throttler:{<key>}:<throttlerName>`. */
export const THROTTLER_NAMESPACE = 'throttler';
