import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { RateLimitModule, RedisThrottlerStorage } from '@app/redis/rate-limit';
import { API_CONFIG } from '../config/api-config.constants.js';
import type { ApiConfig } from '../config/api-config.interface.js';
import { ApiConfigModule } from '../config/api-config.module.js';
import { ClientThrottlerGuard } from './client-throttler.guard.js';

/** Longest one throttler decision waits for Redis before the storage fails open (allows and logs). */
const THROTTLER_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Per-client limits on `POST /holds` and `POST /bookings` across every replica: `@nestjs/throttler` with the
 * library's `RedisThrottlerStorage` (one Lua call per hit, in the `RedisModule` key prefix), `RATE_LIMIT_LIMIT`
 * requests per `RATE_LIMIT_WINDOW_MS` per client and route, then 429 for one window. Redis unreachable: allowed
 * (fail-open, logged), so an outage degrades to "no limit" rather than to refusing customers.
 *
 * `@nestjs/throttler` 6 is CommonJS and loads Nest's ES modules through Node's require(esm), which Jest's module
 * runtime cannot do: `createApp()` imports this module dynamically, and it is tested in child processes.
 */
@Module({
  imports: [
    ApiConfigModule,
    RateLimitModule.forRoot({ failurePolicy: 'fail-open', commandTimeout: THROTTLER_COMMAND_TIMEOUT_MS }),
    ThrottlerModule.forRootAsync({
      imports: [ApiConfigModule],
      inject: [API_CONFIG, RedisThrottlerStorage],
      useFactory: (config: ApiConfig, storage: RedisThrottlerStorage) => ({
        throttlers: [{ ttl: config.rateLimit.windowMs, limit: config.rateLimit.limit }],
        storage,
        errorMessage: (_context, detail) =>
          `Too many requests: at most ${detail.limit} per ${config.rateLimit.windowMs / 1000} s for this client; ` +
          `retry after ${detail.timeToBlockExpire} s.`,
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }],
})
export class RateLimitingModule {}
