import type { RedisConnectionOptions } from '../connection/redis-connection-options.interface.js';
import type { CacheModuleOptions } from '../cache/cache-options.interface.js';
import type { LockModuleOptions } from '../lock/lock-options.interface.js';

/**
 * Options of `RedisModule.forRoot()` / `forRootAsync()`. All durations are in milliseconds.
 *
 * @example
 * ```ts
 * RedisModule.forRoot({ url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' })
 * ```
 */
export interface RedisModuleOptions extends RedisConnectionOptions {
  /**
   * Namespace put in front of every key the library writes (cache entries, locks, streams), so several apps can
   * share one Redis. Letters, digits and `:_-.{}` only; glob characters are refused so the namespace can be
   * scanned safely.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Start even when Redis cannot be reached within `connectTimeout`: the app boots, ioredis keeps reconnecting,
   * and features degrade (fail-open cache, health down) until Redis is back. Off by default: fail fast.
   * @default false
   */
  startDegraded?: boolean;
  /**
   * Extra named connections, injected with `@InjectRedis('name')`. Each takes the same connection options as the
   * top level.
   * @default {}
   */
  connections?: Record<string, RedisConnectionOptions>;
  /**
   * Name reported by `CLIENT LIST` for the connections this module opens (suffixed with the connection name).
   * @default 'nest-redis'
   */
  clientName?: string;
  /**
   * Defaults of `@Cacheable` / `@CachePut` / `@CacheEvict` and `CacheService` (ttl, staleTtl, L1, timeouts,
   * serializer), and whether `CACHE_MANAGER` is served.
   * @default {} (ttl 60000, no stale window, no L1, commandTimeout 250)
   */
  cache?: CacheModuleOptions;
  /**
   * Defaults for `LockService` and `@WithLock`, and the Redlock nodes (`nodes`); single-node locks on the main
   * connection when `nodes` is omitted.
   * @default {}
   */
  lock?: LockModuleOptions;
}
