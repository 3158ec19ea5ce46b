import { Injectable } from '@nestjs/common';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import { Aspect } from '../method-decorators/aspect.decorator.js';
import type { AnyMethod, MethodAspect, MethodWrapContext } from '../method-decorators/method-aspect.interface.js';
import type { RateLimitOptions } from './rate-limit-decorator-options.interface.js';
import { RATE_LIMIT_METADATA } from './rate-limit.constants.js';
import { RateLimiter } from './rate-limiter.service.js';

/** Code of the error thrown when a `@RateLimit` key or cost function throws or returns nothing usable. */
const INVALID_RATE_LIMIT_KEY = 'E_INVALID_RATE_LIMIT_KEY';

type ArgsFunction<T> = (...args: unknown[]) => T;

/**
 * The behaviour of `@RateLimit`: checks at startup that the limit exists, then consumes from it before each call
 * (`RateLimiter.consumeOrThrow`), so a refused call never runs the method.
 */
@Aspect(RATE_LIMIT_METADATA)
@Injectable()
export class RateLimitAspect implements MethodAspect<RateLimitOptions> {
  constructor(private readonly limiter: RateLimiter) {}

  wrap({ instance, target, methodName, method, options }: MethodWrapContext<RateLimitOptions>): AnyMethod {
    const limiter = this.limiter;
    const where = `${target.name}.${methodName}()`;
    const { limit, key, cost = 1 } = options;
    if (!limiter.has(limit)) {
      throw new RedisOptionsError(
        `Invalid @RateLimit on ${where}: no limit named "${limit}" is configured in RateLimitModule.forRoot({ limits }).`,
        `@RateLimit on ${where}.limit`,
      );
    }
    const keyOf: ArgsFunction<unknown> = typeof key === 'function' ? (key as ArgsFunction<unknown>) : () => key;
    const costOf: ArgsFunction<unknown> = typeof cost === 'function' ? (cost as ArgsFunction<unknown>) : () => cost;
    return async function rateLimited(this: unknown, ...args: unknown[]): Promise<unknown> {
      let resolvedKey: unknown;
      let resolvedCost: unknown;
      try {
        resolvedKey = keyOf(...args);
        resolvedCost = costOf(...args);
      } catch (error) {
        throw new RedisToolkitError(
          `@RateLimit on ${where}: the key or cost function threw, so the method did not run.`,
          INVALID_RATE_LIMIT_KEY,
          { method: where },
          { cause: error },
        );
      }
      if (typeof resolvedKey !== 'string' || resolvedKey.length === 0) {
        throw new RedisToolkitError(
          `@RateLimit on ${where}: the key function returned no key, so the method did not run.`,
          INVALID_RATE_LIMIT_KEY,
          { method: where },
        );
      }
      await limiter.consumeOrThrow(limit, resolvedKey, resolvedCost as number);
      return method.apply(instance, args);
    };
  }
}
