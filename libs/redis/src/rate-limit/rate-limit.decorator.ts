import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { rejectUnknownKeys } from '../options/option-checks.js';
import { RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import type { RateLimitOptions } from './rate-limit-decorator-options.interface.js';

const RATE_LIMIT_KEYS = ['limit', 'key', 'cost'];

/** Checks `@RateLimit` options when the class is defined, so a typo fails at startup rather than on first call. */
function validateRateLimitOptions(options: RateLimitOptions, where: string): void {
  const path = `@RateLimit on ${where}`;
  if (typeof options !== 'object' || options === null) {
    throw new RedisOptionsError(`Invalid ${path}: expected an options object with a "limit" and a "key".`, path);
  }
  rejectUnknownKeys(options as unknown as Record<string, unknown>, RATE_LIMIT_KEYS, path);
  if (typeof options.limit !== 'string' || options.limit.length === 0) {
    throw new RedisOptionsError(`Invalid ${path}.limit: expected the name of a configured limit.`, `${path}.limit`);
  }
  const { key, cost } = options;
  if (!(typeof key === 'function' || (typeof key === 'string' && key.length > 0))) {
    throw new RedisOptionsError(
      `Invalid ${path}.key: expected a non-empty string or a function of the arguments returning one.`,
      `${path}.key`,
    );
  }
  if (!(cost === undefined || typeof cost === 'function' || (Number.isInteger(cost) && cost >= 1))) {
    throw new RedisOptionsError(
      `Invalid ${path}.cost: expected a positive integer or a function of the arguments returning one.`,
      `${path}.cost`,
    );
  }
}

const rateLimit = createMethodDecorator<RateLimitOptions>(RATE_LIMIT_METADATA, '@RateLimit', validateRateLimitOptions);

/**
 * Counts each call against a named limit of `RateLimiter` before the method runs; a refused call throws
 * `RateLimitExceededError` (with `retryAfterMs`) and the method does not run. The method then always returns a
 * Promise. When Redis is down, the limit's `failurePolicy` decides (`fail-open`: the method runs; `fail-closed`:
 * `RateLimitExceededError` with reason `unavailable`). An unknown limit name fails startup.
 *
 * @param options `limit` (a configured limit's name), `key` (string or function of the arguments), `cost`
 * @example
 * ```ts
 * @Injectable()
 * export class PartnerClient {
 *   @RateLimit({ limit: 'partnerApi', key: (tenantId: string) => `tenant:${tenantId}` })
 *   async fetchRates(tenantId: string): Promise<Rates> {
 *     return this.http.get(`/rates/${tenantId}`);
 *   }
 * }
 * ```
 */
export const RateLimit = (options: RateLimitOptions): MethodDecorator => rateLimit(options);
