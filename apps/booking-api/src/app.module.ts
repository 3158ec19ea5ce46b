import { Module } from '@nestjs/common';
import { RedisModule } from '@app/redis';
import { API_CONFIG } from './config/api-config.constants.js';
import type { ApiConfig } from './config/api-config.interface.js';
import { ApiConfigModule } from './config/api-config.module.js';
import { HealthModule } from './health/health.module.js';

/** Root module of booking-api. */
@Module({
  imports: [
    ApiConfigModule,
    RedisModule.forRootAsync({
      imports: [ApiConfigModule],
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => config.redis,
    }),
    HealthModule,
  ],
})
export class AppModule {}
