import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { clientIdOf } from './client-id.js';
import { RATE_LIMITED_ROUTE } from './rate-limited-route.decorator.js';

/**
 * `@nestjs/throttler`'s guard, counting in Redis (`RedisThrottlerStorage`, shared by every replica), on the routes
 * marked `@RateLimitedRoute()` only, per client ({@link clientIdOf}). Headers follow the IETF draft
 * (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`) rather than the `X-RateLimit-*` default, and a
 * refusal carries them too, next to `Retry-After`.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override headerPrefix = 'RateLimit';

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(this.reflector.get<boolean>(RATE_LIMITED_ROUTE, context.getHandler()) !== true);
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(clientIdOf(request as unknown as Request));
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader(`${this.headerPrefix}-Limit`, detail.limit);
    response.setHeader(`${this.headerPrefix}-Remaining`, 0);
    response.setHeader(`${this.headerPrefix}-Reset`, detail.timeToBlockExpire);
    await super.throwThrottlingException(context, detail);
  }
}
