import { Module, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { RedisModule } from '@app/redis';
import { RedisSemaphoreModule } from '@app/redis/semaphore';
import { demoTracingEnabled, demoTracingImports } from '../../booking-management/src/index.js';
import { AvailabilityModule } from './availability/availability.module.js';
import { BookingsModule } from './bookings/bookings.module.js';
import { API_CONFIG } from './config/api-config.constants.js';
import type { ApiConfig } from './config/api-config.interface.js';
import { ApiConfigModule } from './config/api-config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { HoldsModule } from './holds/holds.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { HttpServerSpanInterceptor } from './tracing/http-server-span.interceptor.js';

/** With `TRACES_FILE` set (see `startDemoTracing`), one server span per HTTP request. */
const httpSpans: Provider[] = demoTracingEnabled()
  ? [{ provide: APP_INTERCEPTOR, useClass: HttpServerSpanInterceptor }]
  : [];

/**
 * Root module of booking-api, without the per-client rate limits: `createApp()` adds `RateLimitingModule`
 * (`@nestjs/throttler`, which Jest cannot load in-process) around it. With `TRACES_FILE` set, it traces too:
 * `RedisTracingModule` and a server span per HTTP request.
 */
@Module({
  imports: [
    ApiConfigModule,
    RedisModule.forRootAsync({
      imports: [ApiConfigModule],
      inject: [API_CONFIG],
      // `@WithLock` on the slot writes waits up to BOOKING_LOCK_WAIT_MS for a busy slot, then answers 423.
      useFactory: (config: ApiConfig) => ({ ...config.redis, lock: { waitTimeout: config.bookingLockWaitMs } }),
    }),
    RedisSemaphoreModule,
    DatabaseModule,
    AvailabilityModule,
    HoldsModule,
    BookingsModule,
    HealthModule,
    MetricsModule,
    // Spans of the Redis work (lock, cache, transport) when TRACES_FILE is set; nothing otherwise.
    ...demoTracingImports(),
  ],
  providers: httpSpans,
})
export class AppModule {}
