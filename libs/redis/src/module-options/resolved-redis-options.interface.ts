import type { ResolvedRedisCoreOptions } from '../connection/resolved-redis-connection.interface.js';
import type { ResolvedCacheOptions } from '../cache/cache-options.interface.js';
import type { ResolvedLockOptions } from '../lock/lock-options.interface.js';

/**
 * The module options after `resolveRedisOptions`: the core options plus each feature's resolved section. Lower
 * layers read only the part they own (`ResolvedRedisCoreOptions`, `{ cache }`, `{ lock }`).
 */
export interface ResolvedRedisOptions extends ResolvedRedisCoreOptions {
  /** Cache options with every default filled in. */
  cache: ResolvedCacheOptions;
  /** Lock defaults and Redlock nodes (`nodes` empty in single-node mode). */
  lock: ResolvedLockOptions;
}
