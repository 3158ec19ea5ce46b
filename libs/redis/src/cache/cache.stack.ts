import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { RejectedInputReporter } from '../utils/rejected-input.reporter.js';
import { DEFAULT_REDIS_CONNECTION, getRedisConnectionToken } from '../redis.constants.js';
import { errorText } from '../utils/error-text.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import { waitWithin } from '../utils/settle-within.js';
import { CacheClaimBatcher } from './batch/cache-claim.batcher.js';
import { CacheReadBatcher } from './batch/cache-read.batcher.js';
import { CacheBus } from './cache-bus.js';
import type { CacheEntry } from './cache-entry.codec.js';
import { assertCacheKey, boundCacheKey } from './cache-key.builder.js';
import type { CacheResult } from './cache-load.plan.js';
import { CacheMetrics } from './cache-metrics.js';
import { type ClaimResult, CacheRedisStore } from './cache-redis.store.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CACHE_FAIL_OPEN } from './cache.messages.js';
import { L1ServerTracking } from './l1/l1-server-tracking.js';
import { type L1Entry, LruCache } from './l1/lru-cache.js';

/**
 * Internal: the cache's tiers and what keeps them consistent, shared by the lookup, the loader, the refresher and
 * `CacheService` (as bentocache's `CacheStack`): the Redis store (L2), the optional in-process L1, the pub/sub bus
 * that invalidates other replicas' L1 and wakes replicas waiting for a load, lookups of one key in one event-loop
 * turn sharing one GET, and the rate-limited fail-open warning.
 */
@Injectable()
export class CacheStack {
  readonly store: CacheRedisStore;
  readonly l1: LruCache | undefined;
  private readonly logger = new Logger('RedisCache');
  private readonly reads = new Map<string, Promise<Buffer | null>>();
  private readonly batcher: CacheReadBatcher;
  private readonly claims: CacheClaimBatcher;
  private readonly clearReads = (): void => this.reads.clear();
  private readonly failures: RateLimitedLog;
  private busInstance: CacheBus | undefined;
  /** With `l1.tracking`: Redis reports every write to an entry, whoever makes it. */
  private readonly tracking: L1ServerTracking | undefined;
  private busStarting: Promise<void> | undefined;
  private shuttingDown = false;
  /** Counts and logs malformed entries and invalidation messages read from Redis (read as misses / dropped). */
  readonly rejected: RejectedInputReporter;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    @Inject(getRedisConnectionToken()) client: RedisClient,
    keyspace: RedisKeyspace,
    private readonly registry: RedisConnectionsRegistry,
    private readonly metrics: CacheMetrics,
    @Optional() instrumentation?: RedisInstrumentation,
  ) {
    this.failures = new RateLimitedLog(this.logger, options.errorLogInterval);
    this.rejected = new RejectedInputReporter(this.logger, instrumentation, options.errorLogInterval);
    this.store = new CacheRedisStore(
      client,
      keyspace,
      options.commandTimeout,
      registry.pubSub(DEFAULT_REDIS_CONNECTION),
    );
    this.batcher = new CacheReadBatcher(this.store);
    this.claims = new CacheClaimBatcher(this.store, options.lockTtl);
    this.l1 = options.l1 ? new LruCache(options.l1.maxEntries) : undefined;
    if (this.l1 !== undefined && options.l1?.tracking) {
      const entryPrefix = this.store.entryKey('').slice(0, -1);
      this.tracking = new L1ServerTracking(
        client,
        entryPrefix,
        this.l1,
        // Generations (`{key}:g`) and loading locks (`{key}:l`) share the prefix; only entries end with `}`.
        (entryKey) => (entryKey.endsWith('}') ? this.store.keyOf(entryKey) : undefined),
        options.errorLogInterval,
      );
    }
  }

  /** Whether shutdown began: no new background work, no bus start, no lock kept for a retry. */
  get destroyed(): boolean {
    return this.shuttingDown;
  }

  /** Marks the start of shutdown (see `destroyed`). */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** The pub/sub side once started (`undefined` before the first cache call). */
  get bus(): CacheBus | undefined {
    return this.busInstance;
  }

  /** The entry key of a cache key (validates it). */
  entryKeyOf(key: string): string {
    assertCacheKey(key);
    return this.store.entryKey(boundCacheKey(key));
  }

  /**
   * GET of an entry, shared by the lookups of that key started in the same event-loop turn (a burst on a cold or
   * hot key is one round trip), and sent with the reads of the other keys of that turn (one command per hash slot,
   * `CacheReadBatcher`). The map is emptied once per turn rather than entry by entry, which keeps it cheap.
   */
  sharedGet(entryKey: string): Promise<Buffer | null> {
    let read = this.reads.get(entryKey);
    if (read === undefined) {
      read = this.batcher.read(entryKey);
      if (this.reads.size === 0) setImmediate(this.clearReads);
      this.reads.set(entryKey, read);
    }
    return read;
  }

  /**
   * The miss path's claim of `entryKey` (`CacheRedisStore.claim`), sent with the other claims of this event-loop
   * turn: one script per hash slot (`CacheClaimBatcher`).
   */
  claim(entryKey: string, token: string, checkEntry: boolean): Promise<ClaimResult> {
    return this.claims.claim(entryKey, token, checkEntry);
  }

  /** Forgets a shared GET of `entryKey` (it is being written or evicted: later lookups must read again). */
  forgetRead(entryKey: string): void {
    this.reads.delete(entryKey);
  }

  /** Drops the local copies of entries (L1 and shared GETs), before they are evicted or rewritten in Redis. */
  dropLocal(entryKeys: string[]): void {
    for (const entryKey of entryKeys) {
      this.l1?.delete(this.store.keyOf(entryKey));
      this.reads.delete(entryKey);
    }
  }

  /** Drops every local copy (`clear()`). */
  dropAllLocal(): void {
    this.l1?.clear();
    this.reads.clear();
  }

  /** Whether L1 may be read and filled: its invalidations (Redis' tracking, else the bus) are being received. */
  private get l1Live(): boolean {
    return this.tracking !== undefined ? this.tracking.live : this.busInstance?.live === true;
  }

  /**
   * Call before a Redis read or write whose result may be kept in L1, and pass the answer to `writeL1`: with
   * `l1.tracking`, a value is not kept if its key was invalidated since (a write that raced the read).
   */
  l1Token(): number {
    return this.tracking?.token() ?? 0;
  }

  /** L1 is keyed by cache key (not entry key): a hit builds no Redis key. */
  readL1(key: string, now: number): CacheResult<unknown> | undefined {
    const entry = this.readL1Entry(key, now);
    return entry && l1Hit(entry, now);
  }

  /** The fresh L1 entry of `key`, when L1 may be read: the lookup's hit path, which needs no result object. */
  readL1Entry(key: string, now: number): L1Entry | undefined {
    if (this.l1 === undefined || !this.l1Live) return undefined;
    const entry = this.l1.get(boundCacheKey(key), now);
    return entry === undefined || now >= entry.freshUntil ? undefined : entry;
  }

  /** @param token `l1Token()` taken before the read or write that produced `entry` */
  writeL1(key: string, entry: CacheEntry, token: number): void {
    if (this.l1 === undefined || !this.l1Live || this.options.l1 === undefined) return;
    const l1Key = boundCacheKey(key);
    if (this.tracking !== undefined && !this.tracking.mayKeep(l1Key, token)) return;
    const expiresAt = Math.min(Date.now() + this.options.l1.ttl, entry.freshUntil);
    this.l1.set(l1Key, { value: entry.value, createdAt: entry.createdAt, freshUntil: entry.freshUntil, expiresAt });
  }

  /** Tells the other replicas that entries changed: they drop their L1 copies, and waiters for a load wake up. */
  announce(entryKeys: string[]): Promise<unknown> {
    return this.store.publish(this.busInstance?.changed(entryKeys) ?? JSON.stringify({ o: '-', k: entryKeys }));
  }

  /** Tells the other replicas that everything was cleared. */
  announceCleared(): Promise<unknown> {
    return this.store.publish(this.busInstance?.cleared() ?? JSON.stringify({ o: '-', a: 1 }));
  }

  /** Evicts entries (bumping their generations) and announces it; fail-open. */
  async evict(entryKeys: string[], name: string): Promise<void> {
    this.dropLocal(entryKeys);
    try {
      await this.store.evict(entryKeys);
      await this.announce(entryKeys);
    } catch (error) {
      this.failOpen(name, error);
    }
  }

  /** Starts the pub/sub side on first use (so apps that never cache open no subscriber connection). */
  startBus(): void {
    if (this.busStarting || this.destroyed) return;
    this.tracking?.start();
    this.busStarting = (async () => {
      const subscriber = await this.registry.getSubscriber(DEFAULT_REDIS_CONNECTION);
      const bus = new CacheBus(
        subscriber,
        this.store.pubSub,
        this.store.channel,
        this.l1,
        (entryKey) => this.store.keyOf(entryKey),
        this.rejected,
      );
      this.busInstance = bus;
      await bus.start();
    })().catch((error: unknown) => this.failOpen('default', error));
  }

  /** Whether the bus was asked to start already (the hot path checks this before calling `startBus()`). */
  get busRequested(): boolean {
    return this.busStarting !== undefined;
  }

  /** Starts the bus and waits up to `timeoutMs` for its subscription. */
  async busReady(timeoutMs: number): Promise<void> {
    this.startBus();
    if (this.busInstance?.live) return;
    // Past the wait the caller goes on without the bus (it loads without waiting for other replicas).
    if (this.busStarting) await waitWithin(this.busStarting, timeoutMs);
  }

  /** Logs a cache failure at most once per `errorLogInterval` per cache name, counting the others. */
  failOpen(name: string, error: unknown): void {
    this.metrics.for(name).errors++;
    this.failures.warn((suppressed) => CACHE_FAIL_OPEN(name, errorText(error), suppressed), name);
  }

  /** Shutdown, after background work finished: stops the bus and fails the commands still waiting. */
  async close(): Promise<void> {
    await this.busInstance?.stop();
    this.tracking?.stop();
    this.store.close();
    this.l1?.clear();
  }
}

/** How an L1 entry read at `now` was served. */
export function l1Hit(entry: L1Entry, now: number): CacheResult<unknown> {
  return { value: entry.value, status: 'hit', tier: 'l1', ageMs: now - entry.createdAt };
}
