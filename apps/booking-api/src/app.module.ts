import { Module } from '@nestjs/common';
import { RedisModule } from '@app/redis';
import { AvailabilityModule } from './availability/availability.module.js';
import { BookingsModule } from './bookings/bookings.module.js';
import { API_CONFIG } from './config/api-config.constants.js';
import type { ApiConfig } from './config/api-config.interface.js';
import { ApiConfigModule } from './config/api-config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

/** Root module of booking-api. */
@Module({
  imports: [
    ApiConfigModule,
    RedisModule.forRootAsync({
      imports: [ApiConfigModule],
      inject: [API_CONFIG],
      // `@WithLock` on the slot writes waits up to BOOKING_LOCK_WAIT_MS for a busy slot, then answers 423.
      useFactory: (config: ApiConfig) => ({ ...config.redis, lock: { waitTimeout: config.bookingLockWaitMs } }),
    }),
    DatabaseModule,
    AvailabilityModule,
    BookingsModule,
    HealthModule,
    MetricsModule,
  ],
})
export class AppModule {}
