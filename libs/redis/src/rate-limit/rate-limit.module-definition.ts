import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RateLimitModuleOptions } from './rate-limit-options.interface.js';

/** Extras accepted next to the options by `RateLimitModule.forRoot` and `forRootAsync`. */
export interface RateLimitModuleExtras {
  /**
   * Register the module globally, so `RateLimiter` and `RedisThrottlerStorage` are injectable everywhere (in
   * `ThrottlerModule.forRootAsync`'s factory too) without importing it.
   * @default true
   */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: RateLimitConfigurableModule,
  MODULE_OPTIONS_TOKEN: RATE_LIMIT_MODULE_OPTIONS,
  OPTIONS_TYPE: RATE_LIMIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RATE_LIMIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateLimitModuleOptions>({ moduleName: 'RateLimit' })
  .setClassMethodName('forRoot')
  .setExtras<RateLimitModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
  }))
  .build();
