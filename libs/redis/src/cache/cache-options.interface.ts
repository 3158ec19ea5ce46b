import type { CacheSerializer } from './serializers/cache-serializer.interface.js';

/**
 * The `cache` options of `RedisModule.forRoot()`. All durations are in milliseconds.
 *
 * @example
 * ```ts
 * RedisModule.forRoot({
 *   url: 'redis://127.0.0.1:6379',
 *   keyPrefix: 'booking:',
 *   cache: { ttl: 60_000, staleTtl: 300_000, l1: { maxEntries: 10_000, ttl: 5_000 } },
 * })
 * ```
 */
export interface CacheModuleOptions {
  /**
   * How long an entry is fresh, when a decorator or call gives no `ttl`.
   * @default 60000
   */
  ttl?: number;
  /**
   * How long after `ttl` an entry is kept as stale: it is served at once while one caller refreshes it in the
   * background (stale-while-revalidate), and it is served when the loader throws (grace). `0` disables both.
   * @default 0
   */
  staleTtl?: number;
  /**
   * Refresh stale entries in the background (`true`) or have the caller wait for the loader and fall back to the
   * stale value only if it throws (`false`: grace only).
   * @default true
   */
  refreshInBackground?: boolean;
  /**
   * Longest a cache command may take before the call proceeds without the cache (fail-open).
   * @default 250
   */
  commandTimeout?: number;
  /**
   * Cross-replica single-flight: how long the "loading" lock one replica takes on a cold key may live (it is
   * released as soon as the value is stored). Keep it above your slowest loader.
   * @default 10000
   */
  lockTtl?: number;
  /**
   * How long other replicas wait for that replica's value (woken by pub/sub when it lands) before loading
   * themselves.
   * @default 5000
   */
  lockWait?: number;
  /**
   * Optional in-process LRU in front of Redis. Every write and eviction is broadcast over pub/sub so other
   * replicas drop their copy; the whole L1 is dropped whenever the invalidation subscription is down or
   * reconnects. Values read from L1 are shared objects: treat cached values as immutable.
   * @default undefined (no L1)
   */
  l1?: {
    /** Entries kept; the least recently used go first. */
    maxEntries: number;
    /**
     * Longest an entry stays in L1 (never beyond its Redis freshness).
     * @default 10000
     */
    ttl?: number;
    /**
     * Invalidate L1 from Redis itself (client-side caching: `CLIENT TRACKING … BCAST PREFIX`, Redis ≥ 6): a write
     * to a cached entry by anyone (another application, `redis-cli`, a script, not only this library) drops every
     * replica's L1 copy. Costs one extra connection per master, and one invalidation message per write to a cache
     * entry per replica. While a tracking connection is down, L1 is emptied and bypassed. The ACL user needs
     * `client|id`, `client|tracking`, `subscribe` and the channel `__redis__:invalidate`.
     * @default false (L1 is invalidated by this library's own writes, announced over pub/sub)
     */
    tracking?: boolean;
  };
  /**
   * How values are encoded. The default is JSON with tagged values for what JSON loses: exact round trips of Date,
   * BigInt, Map, Set, Buffer, typed arrays, RegExp, nested objects and null, and a bare `JSON.parse` on hits of
   * plain data. `V8CacheSerializer` (structured clone) is the alternative for cyclic values.
   * @default new TaggedJsonCacheSerializer()
   */
  serializer?: CacheSerializer;
  /**
   * Least time between two fail-open log lines of one cache name (the others are counted and reported with the
   * next line).
   * @default 10000
   */
  errorLogInterval?: number;
  /**
   * Serve Nest's `CACHE_MANAGER` (cache-manager 7 + Keyv, for `CacheInterceptor` and `@Inject(CACHE_MANAGER)`)
   * from this connection and key prefix. Needs the `cache-manager` and `keyv` packages.
   * @default true
   */
  cacheManager?: boolean;
}

/** What `cache.l1` becomes after validation. */
export interface ResolvedL1Options {
  maxEntries: number;
  ttl: number;
  tracking: boolean;
}

/** The cache options after `resolveCacheOptions`: every default filled in. */
export interface ResolvedCacheOptions {
  ttl: number;
  staleTtl: number;
  refreshInBackground: boolean;
  commandTimeout: number;
  lockTtl: number;
  lockWait: number;
  l1: ResolvedL1Options | undefined;
  serializer: CacheSerializer;
  errorLogInterval: number;
  cacheManager: boolean;
}

/**
 * Arguments of a decorated method as the option callbacks see them: `any[]` so that `(id: string) => …` is accepted
 * where a method's parameter types cannot be inferred from a decorator.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyArgs = any[];

/** A key: a fixed string, or built from the method's arguments. */
export type CacheKeyOption<TArgs extends unknown[] = unknown[]> = string | ((...args: TArgs) => string);

/** Tags: fixed, or built from the method's arguments. */
export type CacheTagsOption<TArgs extends unknown[] = unknown[]> = string[] | ((...args: TArgs) => string[]);

/** Options of `@Cacheable`. */
export interface CacheableOptions<TArgs extends unknown[] = AnyArgs, TResult = unknown> {
  /**
   * The entry's key (the module's `keyPrefix` is added). Defaults to `Class.method:` + a stable hash of the
   * arguments (objects hash the same whatever their property order).
   * @default `${Class}.${method}:${hash(args)}`
   */
  key?: CacheKeyOption<TArgs>;
  /**
   * How long the entry is fresh.
   * @default the module's `cache.ttl`
   */
  ttl?: number;
  /**
   * Stale window after `ttl` (see the module option).
   * @default the module's `cache.staleTtl`
   */
  staleTtl?: number;
  /** Tags to invalidate the entry with `CacheService.invalidateTags()` or `@CacheEvict({ tags })`. */
  tags?: CacheTagsOption<TArgs>;
  /** Returns false to bypass the cache for this call (the method runs, nothing is read or stored). */
  condition?: (...args: TArgs) => boolean;
  /** Returns true to not store this result (it is still returned). `undefined` is never stored. */
  unless?(result: TResult): boolean;
  /**
   * Name the counters of this method are reported under.
   * @default `${Class}.${method}`
   */
  name?: string;
}

/** Options of `@CachePut`. */
export interface CachePutOptions<TArgs extends unknown[] = AnyArgs, TResult = unknown> {
  /** The key to store the result under (as in `@Cacheable`, including the default). */
  key?: CacheKeyOption<TArgs>;
  /** @default the module's `cache.ttl` */
  ttl?: number;
  /** @default the module's `cache.staleTtl` */
  staleTtl?: number;
  tags?: CacheTagsOption<TArgs>;
  /** Returns false to skip storing for this call. */
  condition?: (...args: TArgs) => boolean;
  /** Returns true to not store this result. */
  unless?(result: TResult): boolean;
  /** @default `${Class}.${method}` */
  name?: string;
}

/** Options of `@CacheEvict`. */
export interface CacheEvictOptions<TArgs extends unknown[] = AnyArgs> {
  /** Key(s) to evict. A function receives the method's arguments. */
  key?: string | string[] | ((...args: TArgs) => string | string[]);
  /** Tags whose entries are evicted. */
  tags?: CacheTagsOption<TArgs>;
  /**
   * Evict every entry of this application's cache namespace (SCAN, never FLUSHDB).
   * @default false
   */
  allEntries?: boolean;
  /**
   * Evict before the method runs (also when it throws) instead of after it succeeds.
   * @default false
   */
  beforeInvocation?: boolean;
  /** Returns false to skip the eviction for this call. */
  condition?: (...args: TArgs) => boolean;
  /** @default `${Class}.${method}` */
  name?: string;
}

/** Per-call options of `CacheService.wrap()`. */
export interface CacheWrapOptions<T = unknown> {
  /** @default the module's `cache.ttl` */
  ttl?: number;
  /** @default the module's `cache.staleTtl` */
  staleTtl?: number;
  tags?: string[];
  /** Returns true to not store this result. */
  unless?(result: T): boolean;
  /**
   * Name the counters are reported under.
   * @default 'default'
   */
  name?: string;
}

/** How a value was served. */
export type CacheServedStatus = 'hit' | 'stale' | 'miss' | 'bypass';

/** What `CacheService.observe()` reports for each cached call made inside it. */
export interface CacheServedInfo {
  /** The cache name (counters name). */
  name: string;
  /** The key, without the module's prefix. */
  key: string;
  /**
   * `hit`: fresh value from L1 or Redis; `stale`: stale value (a refresh was started); `miss`: the loader ran;
   * `bypass`: the cache was skipped (condition false, or Redis unavailable: fail-open).
   */
  status: CacheServedStatus;
  /** Where a hit came from. */
  tier?: 'l1' | 'redis';
  /** Age of the served entry in ms (0 on a miss). */
  ageMs: number;
}

/** The counters of one cache name. */
export interface CacheCounters {
  hits: number;
  misses: number;
  stale: number;
  loads: number;
  errors: number;
}
