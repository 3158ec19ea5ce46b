import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisModuleOptions } from './module-options/redis-module-options.interface.js';

/** Extras accepted next to the options by `forRoot` and `forRootAsync`. */
export interface RedisModuleExtras {
  /**
   * Register the module globally, so feature modules inject its services without importing it.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Named connections to provide for `@InjectRedis(name)` when options come from `forRootAsync` (their options
   * are only known at runtime, their injection tokens must be known now). `forRoot` reads them from `connections`.
   * @default []
   */
  connectionNames?: string[];
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: REDIS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisModuleOptions>({ moduleName: 'Redis' })
  .setClassMethodName('forRoot')
  .setExtras<RedisModuleExtras>({ isGlobal: true, connectionNames: [] }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
  }))
  .build();
