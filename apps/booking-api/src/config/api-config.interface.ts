import type { RedisModuleOptions } from '@app/redis';

/** Everything booking-api reads from its environment, parsed and defaulted once at startup. */
export interface ApiConfig {
  /**
   * HTTP port (`PORT`).
   * @default 3000
   */
  port: number;
  /**
   * Options for `RedisModule`: `url` from `REDIS_URL`, `keyPrefix` from `REDIS_KEY_PREFIX`. The library validates
   * them and never logs the password a URL may hold.
   */
  redis: RedisModuleOptions;
}
