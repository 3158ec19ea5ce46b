/**
 * What the library's capabilities report as they work, for metrics and tracing. Payloads carry no values or
 * credentials: names chosen by the app (cache names, message patterns), numbers, and, for tracing only, the key or
 * resource an operation was about (`cache.lookup`'s `key`, the locks' `resource`), never to be used as a metric label.
 */
export interface RedisInstrumentationEvents {
  /** A connection emitted an error (command errors surface per capability). */
  'connection.error': { connection: string };
  /** A connection lost its socket and ioredis is reconnecting. */
  'connection.reconnecting': { connection: string };
  /** A cache loader ran (on a miss or a refresh). */
  'cache.load': { cache: string; durationMs: number; failed: boolean };
  /**
   * A get-or-load lookup (`CacheService.wrap()`, `@Cacheable`) answered: `outcome` is how (a `miss` ran the loader),
   * `tier` where a hit or stale value came from, `readError` the code or class of the Redis error the lookup failed
   * open on (it then loaded without the cache). Emitted only while someone listens (`observes('cache.lookup')`).
   */
  'cache.lookup': {
    cache: string;
    key: string;
    outcome: 'hit' | 'stale' | 'miss' | 'error';
    tier?: 'l1' | 'redis';
    durationMs: number;
    readError?: string;
  };
  /** A lock was acquired after waiting `waitMs` (`resource` and `fencingToken`: for tracing, never a label). */
  'lock.acquired': { waitMs: number; mode: 'single' | 'redlock'; resource?: string; fencingToken?: number };
  /** A lock could not be acquired (`resource`: for tracing, never a label). */
  'lock.failed': { waitMs: number; reason: string; mode: 'single' | 'redlock'; resource?: string };
  /** A held lock was lost (expired or taken over) before its release. */
  'lock.lost': { mode: 'single' | 'redlock' };
  /** A held lock stopped being held after `heldMs`: released by its holder, or lost (`lock.lost` said why). */
  'lock.released': {
    mode: 'single' | 'redlock';
    resource: string;
    fencingToken: number;
    heldMs: number;
    outcome: 'released' | 'lost';
  };
  /**
   * A transport server started listening with these handler patterns (the metrics start their series at 0, so the
   * first messages show in `rate()`).
   */
  'transport.listening': { mode: 'pubsub' | 'streams'; patterns: string[] };
  /** A transport handler finished. */
  'transport.handled': {
    pattern: string;
    mode: 'pubsub' | 'streams';
    durationMs: number;
    outcome: 'ok' | 'failed' | 'dead-lettered';
  };
  /** Something read from Redis was malformed and was dropped (or dead-lettered): see {@link UntrustedInputSource}. */
  'input.rejected': { source: UntrustedInputSource };
  /**
   * A rate limit decided a call: `limit` is the limit's name (`kind: 'limiter'`) or the throttler's name
   * (`kind: 'throttler'`); `degraded` when Redis failed and the limit's failure policy decided.
   */
  'rate-limit.decision': { limit: string; kind: 'limiter' | 'throttler'; allowed: boolean; degraded: boolean };
}

/**
 * Where the library reads data anyone with access to Redis can write: cache invalidation messages (`cache.bus`),
 * cache entries (`cache.entry`), `CACHE_MANAGER` values (`cache.manager`), transport requests and events
 * (`transport.message`), transport replies (`transport.reply`), stream entries (`transport.stream`) and lock
 * wake-ups (`lock.wakeup`).
 */
export type UntrustedInputSource =
  | 'cache.bus'
  | 'cache.entry'
  | 'cache.manager'
  | 'transport.message'
  | 'transport.reply'
  | 'transport.stream'
  | 'lock.wakeup'
  | 'semaphore.wakeup';

export type RedisInstrumentationEvent = keyof RedisInstrumentationEvents;

/** Reads the consumer lag of the streams a transport server consumes (pull-based: read at every scrape). */
export type ConsumerLagSource = () => Promise<Array<{ stream: string; group: string; lag: number }>>;
