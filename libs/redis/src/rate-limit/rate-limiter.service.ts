import { Inject, Injectable, Logger } from '@nestjs/common';
import { RateLimitExceededError } from '../errors/rate-limit-exceeded.error.js';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { errorText } from '../utils/error-text.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import type { ResolvedRateLimit, ResolvedRateLimitOptions } from './rate-limit-options.interface.js';
import type { RateLimitResult } from './rate-limit-result.interface.js';
import { RateLimitScriptRunner } from './rate-limit-script.runner.js';
import { RATE_LIMIT_NAMESPACE, RATE_LIMIT_RESOLVED_OPTIONS, RATE_LIMIT_SCRIPT_RUNNER } from './rate-limit.constants.js';
import {
  INVALID_COST,
  RATE_LIMIT_DEGRADED,
  RATE_LIMIT_EXCEEDED,
  RATE_LIMIT_UNAVAILABLE,
  UNKNOWN_RATE_LIMIT,
} from './rate-limit.messages.js';
import { FIXED_WINDOW, SLIDING_WINDOW, TOKEN_BUCKET } from './scripts/rate-limit.scripts.js';

/** Code of the error for a limit name that is not configured (a programming error, not a refusal). */
export const UNKNOWN_RATE_LIMIT_CODE = 'E_UNKNOWN_RATE_LIMIT';
/** Code of the error for a cost that is not an integer between 1 and the limit's capacity. */
export const INVALID_RATE_LIMIT_COST_CODE = 'E_INVALID_RATE_LIMIT_COST';

/** The largest cost one call of a limit may have: more could never be allowed. */
function capacityOf(limit: ResolvedRateLimit): number {
  return limit.algorithm === 'token-bucket' ? limit.burst : limit.limit;
}

/**
 * Named rate limits on Redis for code that is not an HTTP route (message handlers, calls to a third party): one
 * Lua script run per decision, exact across processes, on the algorithm each limit chose (`fixed-window`,
 * `sliding-window`, `token-bucket`). When Redis is down or slower than the limit's `commandTimeout`, the limit's
 * `failurePolicy` decides.
 *
 * @example
 * ```ts
 * const result = await this.rateLimiter.consume('partnerApi', `tenant:${tenantId}`);
 * if (!result.allowed) throw new ServiceUnavailableException(`retry in ${result.retryAfterMs} ms`);
 * ```
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly degradedLog = new RateLimitedLog(this.logger);
  private readonly keyPrefix: string;

  /** @internal Nest injects the collaborators; construct through `RateLimitModule`, never with `new`. */
  constructor(
    @Inject(RATE_LIMIT_RESOLVED_OPTIONS) private readonly options: ResolvedRateLimitOptions,
    @Inject(RATE_LIMIT_SCRIPT_RUNNER) private readonly runner: RateLimitScriptRunner,
    keyspace: RedisKeyspace,
    private readonly instrumentation: RedisInstrumentation,
  ) {
    this.keyPrefix = keyspace.key(RATE_LIMIT_NAMESPACE, '');
  }

  /** Whether a limit of that name is configured. */
  has(limit: string): boolean {
    return this.options.limits.has(limit);
  }

  /** The Redis key of `key` under `limit` (`<keyPrefix>rate-limit:{<limit>:<key>}`: one hash slot per counter). */
  redisKey(limit: string, key: string): string {
    return `${this.keyPrefix}{${limit}:${key}}`;
  }

  /**
   * Counts `cost` units of `key` against the named limit, if they fit.
   * @param limit a name from `RateLimitModule.forRoot({ limits })`
   * @param key what is limited (a tenant, a user, a partner), without the key prefix
   * @param cost units this call uses, an integer from 1 to the limit's capacity (`limit` or `burst`)
   * @default cost 1
   */
  async consume(limit: string, key: string, cost = 1): Promise<RateLimitResult> {
    const definition = this.definition(limit, cost);
    let reply: number[];
    try {
      reply = (await this.runScript(definition, this.redisKey(limit, key), cost)) as number[];
    } catch (error) {
      return this.degraded(definition, cost, error);
    }
    const allowed = reply[0] === 1;
    const result: RateLimitResult =
      definition.algorithm === 'fixed-window'
        ? { allowed, remaining: reply[1], retryAfterMs: allowed ? 0 : reply[2], resetMs: reply[2], degraded: false }
        : { allowed, remaining: reply[1], retryAfterMs: reply[2], resetMs: reply[3], degraded: false };
    this.instrumentation.emit('rate-limit.decision', { limit, kind: 'limiter', allowed, degraded: false });
    return result;
  }

  /**
   * Like `consume`, but a refusal throws `RateLimitExceededError` (reason `limit`, or `unavailable` for a
   * fail-closed limit while Redis is down). What `@RateLimit` calls.
   */
  async consumeOrThrow(limit: string, key: string, cost = 1): Promise<RateLimitResult> {
    const result = await this.consume(limit, key, cost);
    if (result.allowed) return result;
    const message = result.degraded ? RATE_LIMIT_UNAVAILABLE(limit) : RATE_LIMIT_EXCEEDED(limit, result.retryAfterMs);
    throw new RateLimitExceededError(
      message,
      limit,
      key,
      result.retryAfterMs,
      result.degraded ? 'unavailable' : 'limit',
    );
  }

  /** Forgets everything counted for `key` under `limit` (an operator's reset, or a test's). */
  async reset(limit: string, key: string): Promise<void> {
    this.definition(limit, 1);
    await this.runner.client.del(this.redisKey(limit, key));
  }

  private definition(limit: string, cost: number): ResolvedRateLimit {
    const definition = this.options.limits.get(limit);
    if (definition === undefined) {
      throw new RedisToolkitError(UNKNOWN_RATE_LIMIT(limit, [...this.options.limits.keys()]), UNKNOWN_RATE_LIMIT_CODE, {
        limit,
      });
    }
    const capacity = capacityOf(definition);
    if (!Number.isInteger(cost) || cost < 1 || cost > capacity) {
      throw new RedisToolkitError(INVALID_COST(limit, capacity), INVALID_RATE_LIMIT_COST_CODE, { limit, cost });
    }
    return definition;
  }

  private runScript(definition: ResolvedRateLimit, redisKey: string, cost: number): Promise<unknown> {
    const timeout = definition.policy.commandTimeout;
    switch (definition.algorithm) {
      case 'fixed-window':
        return this.runner.run(FIXED_WINDOW, [redisKey], [definition.limit, definition.window, cost], timeout);
      case 'sliding-window':
        return this.runner.run(SLIDING_WINDOW, [redisKey], [definition.limit, definition.window, cost], timeout);
      case 'token-bucket':
        return this.runner.run(
          TOKEN_BUCKET,
          [redisKey],
          [definition.burst, definition.period / definition.rate, cost],
          timeout,
        );
    }
  }

  private degraded(definition: ResolvedRateLimit, cost: number, error: unknown): RateLimitResult {
    const { failurePolicy, commandTimeout } = definition.policy;
    this.degradedLog.warn(RATE_LIMIT_DEGRADED(definition.name, errorText(error), failurePolicy));
    const allowed = failurePolicy === 'fail-open';
    this.instrumentation.emit('rate-limit.decision', {
      limit: definition.name,
      kind: 'limiter',
      allowed,
      degraded: true,
    });
    return allowed
      ? { allowed, remaining: capacityOf(definition) - cost, retryAfterMs: 0, resetMs: 0, degraded: true }
      : { allowed, remaining: 0, retryAfterMs: commandTimeout, resetMs: 0, degraded: true };
  }
}
