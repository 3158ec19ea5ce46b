import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link RateLimitedRoute}. */
export const RATE_LIMITED_ROUTE = 'booking-api:rate-limited-route';

/**
 * Marks a route as limited per client by `ClientThrottlerGuard` (the app's `@nestjs/throttler` guard, applied only
 * to marked routes). Kept apart from `@nestjs/throttler` so controllers load without it: in-process tests build
 * `AppModule`, which has no throttler (see `app.factory.ts`).
 */
export const RateLimitedRoute = (): MethodDecorator => SetMetadata(RATE_LIMITED_ROUTE, true);
