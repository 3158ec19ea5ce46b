export { RateLimitModule } from './rate-limit.module.js';
export { RATE_LIMIT_MODULE_OPTIONS, type RateLimitModuleExtras } from './rate-limit.module-definition.js';
export { RateLimiter, INVALID_RATE_LIMIT_COST_CODE, UNKNOWN_RATE_LIMIT_CODE } from './rate-limiter.service.js';
export { RedisThrottlerStorage, type ThrottlerStorageRecord } from './redis-throttler.storage.js';
export { RateLimit } from './rate-limit.decorator.js';
export type { RateLimitOptions } from './rate-limit-decorator-options.interface.js';
export type { RateLimitResult } from './rate-limit-result.interface.js';
export type {
  FixedWindowLimit,
  RateLimitDefinition,
  RateLimitFailurePolicy,
  RateLimitModuleOptions,
  RateLimitPolicyOptions,
  SlidingWindowLimit,
  TokenBucketLimit,
} from './rate-limit-options.interface.js';
export { RateLimitExceededError, type RateLimitExceededReason } from '../errors/rate-limit-exceeded.error.js';
