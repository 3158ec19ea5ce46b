import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type {
  CacheCounters,
  CacheServedInfo,
  CacheWrapOptions,
  ResolvedCacheOptions,
} from './cache-options.interface.js';
import { decodeEntry, encodeEntry } from './cache-entry.codec.js';
import { type CacheCallOptions, resolveCallOptions } from './cache-call-options.js';
import type { CacheResult, LoadPlan } from './cache-load.plan.js';
import { CacheMetrics } from './cache-metrics.js';
import { CacheServedObserver } from './cache-served.observer.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheBatch, type CacheManyEntry, type CacheSetManyOptions } from './cache.batch.js';
import { CacheLoader } from './cache.loader.js';
import { CacheLookup } from './cache.lookup.js';
import { CacheRefresher } from './cache.refresher.js';
import { CacheStack } from './cache.stack.js';
import { LoadingLockReleaser } from './loading-lock.releaser.js';

export type { CacheResult } from './cache-load.plan.js';
export type { CacheManyEntry, CacheSetManyOptions } from './cache.batch.js';

/** Options of `CacheService.set()`. */
export interface CacheSetOptions {
  /** @default the module's `cache.ttl` */
  ttl?: number;
  /** @default the module's `cache.staleTtl` */
  staleTtl?: number;
  tags?: string[];
}

/** The tags of a `wrap()` without any (shared, never mutated). */
const NO_TAGS: string[] = [];

/** How long `onModuleDestroy` waits for background refreshes still running. */
const SHUTDOWN_WAIT_MS = 2_000;

/**
 * The cache: Redis (L2) with an optional in-process L1, used by `@Cacheable` / `@CachePut` / `@CacheEvict` and
 * directly. What it guarantees:
 * - single-flight: concurrent misses on one key in this process share one load; across replicas a short loading
 *   lock lets one replica load while the others wait (bounded by `lockWait`, woken by pub/sub) for its value;
 * - stale-while-revalidate and grace within `staleTtl`;
 * - eviction wins: a load that started before an eviction of its key or tags never writes its result afterwards;
 * - fail-open: when Redis errors or a command exceeds `commandTimeout`, calls run uncached (logged, rate-limited)
 *   and `get` answers a miss; callers never see a cache failure, and it recovers by itself;
 * - a stored `null` is a hit (`get` returns `null`), a miss is `undefined`; `undefined` is never stored.
 *
 * This class is the public API only. The work is done by internal collaborators, one role each: `CacheStack` (L1,
 * Redis store, pub/sub bus, fail-open log), `CacheLookup` (get-or-load), `CacheLoader` (single-flight and the
 * cross-replica loading lock), `CacheRefresher` (stale-while-revalidate), `LoadingLockReleaser` and
 * `CacheServedObserver` (`observe()`), `CacheBatch` (`getMany` / `setMany`).
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  /** @internal Nest injects the collaborators; construct through `RedisModule`, never with `new`. */
  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
    private readonly lookup: CacheLookup,
    private readonly loader: CacheLoader,
    private readonly refresher: CacheRefresher,
    private readonly locks: LoadingLockReleaser,
    private readonly observer: CacheServedObserver,
    private readonly metrics: CacheMetrics,
    private readonly batch: CacheBatch,
  ) {
    this.defaultCall = resolveCallOptions(options, {});
    this.defaultCounters = metrics.for(this.defaultCall.name);
  }

  // After the constructor on purpose: declaration files keep this order, so the API report does not change.
  /** The module's defaults as one call's options (a `wrap()` without options), and their counters. */
  private readonly defaultCall: CacheCallOptions<unknown>;
  private readonly defaultCounters: CacheCounters;

  /**
   * The cached value of `key`: `undefined` on a miss (or when Redis is unavailable), `null` when `null` was
   * cached. Stale entries are returned too.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.getWithStatus<T>(key))?.value;
  }

  /** Like `get`, with how the value was served (`hit` / `stale`, tier, age); `undefined` on a miss. */
  async getWithStatus<T = unknown>(key: string): Promise<CacheResult<T> | undefined> {
    const stack = this.stack;
    stack.startBus();
    const entryKey = stack.entryKeyOf(key);
    const now = Date.now();
    const local = stack.readL1(key, now);
    if (local) return local as CacheResult<T>;
    const l1Token = stack.l1Token();
    try {
      const data = await stack.store.get(entryKey);
      const entry = data ? decodeEntry(this.options.serializer, data, stack.rejected) : undefined;
      if (!entry) return undefined;
      const fresh = now < entry.freshUntil;
      if (fresh) stack.writeL1(key, entry, l1Token);
      return { value: entry.value as T, status: fresh ? 'hit' : 'stale', tier: 'redis', ageMs: now - entry.createdAt };
    } catch (error) {
      stack.failOpen('default', error);
      return undefined;
    }
  }

  /** Stores `value` (never `undefined`) unconditionally; other replicas drop their L1 copy. */
  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<void> {
    if (value === undefined) return;
    const stack = this.stack;
    stack.startBus();
    const entryKey = stack.entryKeyOf(key);
    const { ttl, staleTtl } = resolveCallOptions(this.options, options);
    const now = Date.now();
    stack.forgetRead(entryKey);
    const l1Token = stack.l1Token();
    try {
      if (options.tags?.length) await stack.store.addToTags(entryKey, options.tags, ttl + staleTtl);
      await stack.store.store(
        entryKey,
        '*',
        encodeEntry(this.options.serializer, value, now, now + ttl),
        ttl + staleTtl,
      );
      stack.writeL1(key, { value, createdAt: now, freshUntil: now + ttl }, l1Token);
      await stack.announce([entryKey]);
    } catch (error) {
      stack.l1?.delete(key);
      stack.failOpen('default', error);
    }
  }

  /** Evicts keys (and bumps their generation, so loads already running do not write them back). */
  async del(keys: string | string[]): Promise<void> {
    if (Array.isArray(keys) && keys.length === 0) return;
    const entryKeys = (Array.isArray(keys) ? keys : [keys]).map((key) => this.stack.entryKeyOf(key));
    await this.stack.evict(entryKeys, 'default');
  }

  /**
   * The cached values of `keys`, in order (`undefined` for each miss), read with one Redis command per hash slot:
   * one script on a single node, one per slot on a Cluster (keys sharing a `{hash tag}` share a slot).
   *
   * @example
   * ```ts
   * const [venue, rooms] = await cache.getMany<Venue | Room[]>([`venue:${id}`, `rooms:${id}`]);
   * ```
   */
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return this.batch.getMany<T>(keys);
  }

  /**
   * Stores several entries (as `set` does each) with one Redis command per hash slot, one per tag and one PUBLISH.
   * An entry's own `ttl` / `staleTtl` win over `options`; `options.tags` apply to every entry.
   *
   * @example
   * ```ts
   * await cache.setMany(venues.map((v) => ({ key: `venue:${v.id}`, value: v })), { ttl: 60_000, tags: ['venues'] });
   * ```
   */
  setMany(entries: ReadonlyArray<CacheManyEntry>, options: CacheSetManyOptions = {}): Promise<void> {
    return this.batch.setMany(entries, options);
  }

  /** Evicts several keys (as `del` does) with one Redis command per hash slot and one PUBLISH. */
  delMany(keys: readonly string[]): Promise<void> {
    return this.del([...keys]);
  }

  /**
   * Returns the cached value of `key`, or runs `loader` once (per process, and per cluster of replicas within
   * `lockWait`), stores its result and returns it.
   *
   * @example
   * ```ts
   * const venue = await cache.wrap(`venue:${id}`, () => this.repository.find(id), { ttl: 30_000, tags: ['venues'] });
   * ```
   */
  wrap<T>(key: string, loader: () => Promise<T> | T, options?: CacheWrapOptions<T>): Promise<T> {
    // Not `async`: the lookup answers the value itself (no result object, no extra promise layer on a hit); what
    // it throws synchronously (an invalid key) is still a rejection.
    try {
      return this.lookup.resolveValue(this.planOf(key, loader, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Like `wrap`, with how the value was served. */
  wrapWithStatus<T>(key: string, loader: () => Promise<T> | T, options?: CacheWrapOptions<T>): Promise<CacheResult<T>> {
    return this.lookup.resolve(this.planOf(key, loader, options));
  }

  /**
   * Runs `producer` and stores its result under `key` (what `@CachePut` does): unlike `set`, an eviction that
   * happens while `producer` runs wins.
   */
  async put<T>(key: string, producer: () => Promise<T> | T, options: CacheWrapOptions<T> = {}): Promise<T> {
    return this.loader.put(key, producer, resolveCallOptions(this.options, options), options.tags ?? []);
  }

  /** Evicts every entry carrying one of `tags` (on any node of a Cluster); returns how many entries existed. */
  async invalidateTags(tags: string[]): Promise<number> {
    if (tags.length === 0) return 0;
    try {
      const { members, deleted } = await this.stack.store.invalidateTags(tags);
      this.stack.dropLocal(members);
      if (members.length > 0) await this.stack.announce(members);
      return deleted;
    } catch (error) {
      this.stack.failOpen('default', error);
      return 0;
    }
  }

  /**
   * Evicts every entry of this application's cache namespace (`<keyPrefix>cache:`), found with SCAN on every
   * master; other namespaces and other applications' keys are untouched. Returns how many entries were evicted.
   */
  async clear(): Promise<number> {
    this.stack.dropAllLocal();
    try {
      const evicted = await this.stack.store.clear();
      await this.stack.announceCleared();
      return evicted.length;
    } catch (error) {
      this.stack.failOpen('default', error);
      return 0;
    }
  }

  /** The counters of every cache name (also available from `CacheMetrics`). */
  stats(): Record<string, CacheCounters> {
    return this.metrics.snapshot();
  }

  /**
   * Runs `fn` and reports how each cached call made inside it (decorated methods included, at any depth) was
   * served: the source of a `Cache-Status` response header.
   *
   * @example
   * ```ts
   * const { value, served } = await cache.observe(() => this.availability.forVenue(id));
   * response.setHeader('Cache-Status', served.map((s) => `${s.status}; age=${Math.round(s.ageMs / 1000)}`).join(', '));
   * ```
   */
  observe<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    return this.observer.observe(fn);
  }

  /**
   * Like `observe()`, for the cached calls `fn` starts before it first awaits: a decorated method called directly,
   * through any number of synchronous layers (a trampoline, `@Cacheable`, a `CacheService.wrap()` inside). Calls made
   * after an `await` inside `fn` are not seen. What it saves: `observe()` runs `fn` in an `AsyncLocalStorage`, and
   * on Node.js 20 the first `AsyncLocalStorage.run()` turns on async hooks that every promise and socket operation
   * of the process pays for from then on; a hot endpoint that only needs the status of the one call it makes
   * should use this.
   *
   * @example
   * ```ts
   * const { value, served } = await cache.observeCall(() => this.availability.forVenue(id, date));
   * ```
   */
  observeCall<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    return this.observer.observeCall(fn);
  }

  /**
   * The plan of one `wrap()`: a call without options (the common case) reuses the module's defaults merged once,
   * and their counters, instead of merging them again.
   */
  private planOf<T>(key: string, loader: () => Promise<T> | T, options: CacheWrapOptions<T> | undefined): LoadPlan<T> {
    const call =
      options === undefined ? (this.defaultCall as CacheCallOptions<T>) : resolveCallOptions(this.options, options);
    return {
      key,
      entryKey: this.stack.entryKeyOf(key),
      loader,
      ttl: call.ttl,
      staleTtl: call.staleTtl,
      tags: options?.tags ?? NO_TAGS,
      unless: call.unless,
      name: call.name,
      counters: options === undefined ? this.defaultCounters : this.metrics.for(call.name),
      observer: undefined,
    };
  }

  async onModuleDestroy(): Promise<void> {
    this.stack.beginShutdown();
    this.locks.stop();
    await this.refresher.drain(SHUTDOWN_WAIT_MS);
    await this.stack.close();
  }
}
