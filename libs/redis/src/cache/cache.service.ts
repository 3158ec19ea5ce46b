import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type {
  CacheCounters,
  CacheServedInfo,
  CacheServedStatus,
  CacheWrapOptions,
  ResolvedCacheOptions,
} from '../interfaces/cache-options.interface.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { DEFAULT_REDIS_CONNECTION, getRedisConnectionToken } from '../redis.constants.js';
import { CacheBus } from './cache-bus.js';
import {
  decodeEntry,
  decodeValue,
  encodeEntry,
  entryCreatedAt,
  entryFreshUntil,
  isEntry,
  type CacheEntry,
} from './cache-entry.codec.js';
import { CacheMetrics } from './cache-metrics.js';
import { CacheRedisStore, CacheUnavailable, type ClaimResult } from './cache-redis.store.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { assertCacheKey, boundCacheKey } from './cache-key.builder.js';
import { CACHE_FAIL_OPEN, CACHE_REFRESH_FAILED, CACHE_SERVED_STALE_AFTER_ERROR } from './cache.messages.js';
import { LruCache } from './l1/lru-cache.js';

/** A value and how it was served. */
export interface CacheResult<T> {
  value: T;
  status: CacheServedStatus;
  tier?: 'l1' | 'redis';
  ageMs: number;
}

/** Options of `CacheService.set()`. */
export interface CacheSetOptions {
  /** @default the module's `cache.ttl` */
  ttl?: number;
  /** @default the module's `cache.staleTtl` */
  staleTtl?: number;
  tags?: string[];
}

/** Everything `load` needs about one call, resolved once. */
interface LoadPlan<T> {
  key: string;
  /** Built on the first L1 miss (an L1 hit never needs it). */
  entryKey?: string;
  loader: () => Promise<T> | T;
  ttl: number;
  staleTtl: number;
  tags: string[];
  unless?(result: T): boolean;
  name: string;
  counters: CacheCounters;
  /** Where to report how the call was served (`observe()` / `observeCall()`), read once when the lookup starts. */
  observer?: CacheServedInfo[];
}

/** A plan once its entry key is built (past the L1 check). */
type ReadyPlan<T> = LoadPlan<T> & { entryKey: string };

/** How long `onModuleDestroy` waits for background refreshes still running. */
const SHUTDOWN_WAIT_MS = 2_000;

/**
 * A replica waiting for another's load re-checks Redis after 50 ms, then at doubling intervals up to this bound, even
 * without a "value landed" message: the message is lost when the loader's publish failed (Redis restarting,
 * paused or failing over) although its value, or the release of its lock, did reach Redis.
 */
const MAX_WAIT_RECHECK_MS = 500;
const FIRST_WAIT_RECHECK_MS = 50;

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
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  private readonly logger = new Logger('RedisCache');
  private readonly store: CacheRedisStore;
  private readonly l1: LruCache | undefined;
  private readonly inflight = new Map<string, Promise<CacheResult<unknown>>>();
  private readonly reads = new Map<string, Promise<Buffer | null>>();
  private readonly clearReads = (): void => this.reads.clear();
  private readonly refreshing = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly observers = new AsyncLocalStorage<CacheServedInfo[]>();
  /** The collector of the `observeCall()` running synchronously right now, if any. */
  private capturing: CacheServedInfo[] | undefined;
  /**
   * Loading locks this process holds but could not release (Redis unreachable): released as soon as the connection
   * is ready again, so other replicas' misses do not wait for `lockTtl` (a lock survives a restart with persistence,
   * or a failover on the promoted replica). Entry key → token and when the lock expires anyway.
   */
  private readonly unreleased = new Map<string, { token: string; expiresAt: number }>();
  private readonly releaseUnreleased = (): void => {
    const now = Date.now();
    for (const [entryKey, { token, expiresAt }] of this.unreleased) {
      if (expiresAt > now) void this.releaseAndWake(entryKey, token, false);
    }
    this.unreleased.clear();
  };
  private readonly failures = new Map<string, { lastLogAt: number; suppressed: number }>();
  private bus: CacheBus | undefined;
  private busStarting: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) readonly options: ResolvedCacheOptions,
    @Inject(getRedisConnectionToken()) client: RedisClient,
    keyspace: RedisKeyspace,
    private readonly registry: RedisConnectionsRegistry,
    readonly metrics: CacheMetrics,
  ) {
    this.store = new CacheRedisStore(client, keyspace, options.commandTimeout);
    this.l1 = options.l1 ? new LruCache(options.l1.maxEntries) : undefined;
    client.on('ready', this.releaseUnreleased);
  }

  /**
   * The cached value of `key`: `undefined` on a miss (or when Redis is unavailable), `null` when `null` was
   * cached. Stale entries are returned too.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.getWithStatus<T>(key))?.value;
  }

  /** Like `get`, with how the value was served (`hit` / `stale`, tier, age); `undefined` on a miss. */
  async getWithStatus<T = unknown>(key: string): Promise<CacheResult<T> | undefined> {
    this.startBus();
    const entryKey = this.entryKeyOf(key);
    const now = Date.now();
    const local = this.readL1(key, now);
    if (local) return local as CacheResult<T>;
    try {
      const data = await this.store.get(entryKey);
      const entry = data ? decodeEntry(this.options.serializer, data) : undefined;
      if (!entry) return undefined;
      const fresh = now < entry.freshUntil;
      if (fresh) this.writeL1(key, entry);
      return { value: entry.value as T, status: fresh ? 'hit' : 'stale', tier: 'redis', ageMs: now - entry.createdAt };
    } catch (error) {
      this.failOpen('default', error);
      return undefined;
    }
  }

  /** Stores `value` (never `undefined`) unconditionally; other replicas drop their L1 copy. */
  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<void> {
    if (value === undefined) return;
    this.startBus();
    const entryKey = this.entryKeyOf(key);
    const ttl = options.ttl ?? this.options.ttl;
    const staleTtl = options.staleTtl ?? this.options.staleTtl;
    const now = Date.now();
    this.reads.delete(entryKey);
    try {
      if (options.tags?.length) await this.store.addToTags(entryKey, options.tags, ttl + staleTtl);
      await this.store.store(
        entryKey,
        '*',
        encodeEntry(this.options.serializer, value, now, now + ttl),
        ttl + staleTtl,
      );
      this.writeL1(key, { value, createdAt: now, freshUntil: now + ttl });
      await this.announce([entryKey]);
    } catch (error) {
      this.l1?.delete(key);
      this.failOpen('default', error);
    }
  }

  /** Evicts keys (and bumps their generation, so loads already running do not write them back). */
  async del(keys: string | string[]): Promise<void> {
    const entryKeys = (Array.isArray(keys) ? keys : [keys]).map((key) => this.entryKeyOf(key));
    await this.evictEntries(entryKeys, 'default');
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
  async wrap<T>(key: string, loader: () => Promise<T> | T, options: CacheWrapOptions<T> = {}): Promise<T> {
    return (await this.wrapWithStatus(key, loader, options)).value;
  }

  /** Like `wrap`, with how the value was served. */
  wrapWithStatus<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: CacheWrapOptions<T> = {},
  ): Promise<CacheResult<T>> {
    const name = options.name ?? 'default';
    return this.resolve({
      key,
      entryKey: this.entryKeyOf(key),
      loader,
      ttl: options.ttl ?? this.options.ttl,
      staleTtl: options.staleTtl ?? this.options.staleTtl,
      tags: options.tags ?? [],
      unless: options.unless,
      name,
      counters: this.metrics.for(name),
      observer: undefined,
    });
  }

  /**
   * Runs `producer` and stores its result under `key` (what `@CachePut` does): unlike `set`, an eviction that
   * happens while `producer` runs wins.
   */
  async put<T>(key: string, producer: () => Promise<T> | T, options: CacheWrapOptions<T> = {}): Promise<T> {
    this.startBus();
    const entryKey = this.entryKeyOf(key);
    const name = options.name ?? 'default';
    const tags = options.tags ?? [];
    let fence: { generation: string; tagGenerations: string[] } | undefined;
    try {
      fence = { generation: await this.store.generation(entryKey), tagGenerations: await this.tagFence(tags) };
    } catch (error) {
      this.failOpen(name, error);
    }
    const value = await producer();
    if (fence && value !== undefined && !options.unless?.(value)) {
      const ttl = options.ttl ?? this.options.ttl;
      const staleTtl = options.staleTtl ?? this.options.staleTtl;
      await this.storeFenced(entryKey, value, ttl, staleTtl, tags, fence.generation, fence.tagGenerations, '', name);
    }
    return value;
  }

  /** Evicts every entry carrying one of `tags` (on any node of a Cluster); returns how many entries existed. */
  async invalidateTags(tags: string[]): Promise<number> {
    if (tags.length === 0) return 0;
    try {
      const { members, deleted } = await this.store.invalidateTags(tags);
      for (const entryKey of members) {
        this.l1?.delete(this.store.keyOf(entryKey));
        this.reads.delete(entryKey);
      }
      if (members.length > 0) await this.announce(members);
      return deleted;
    } catch (error) {
      this.failOpen('default', error);
      return 0;
    }
  }

  /**
   * Evicts every entry of this application's cache namespace (`<keyPrefix>cache:`), found with SCAN on every
   * master; other namespaces and other applications' keys are untouched. Returns how many entries were evicted.
   */
  async clear(): Promise<number> {
    this.l1?.clear();
    this.reads.clear();
    try {
      const evicted = await this.store.clear();
      await this.store.publish(this.bus?.cleared() ?? JSON.stringify({ o: '-', a: 1 }));
      return evicted.length;
    } catch (error) {
      this.failOpen('default', error);
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
  async observe<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    const served: CacheServedInfo[] = [];
    const value = await this.observers.run(served, fn);
    return { value, served };
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
  async observeCall<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    const served: CacheServedInfo[] = [];
    const outer = this.capturing;
    this.capturing = served;
    let pending: Promise<T> | T;
    try {
      pending = fn();
    } finally {
      this.capturing = outer;
    }
    return { value: await pending, served };
  }

  /** Internal (decorators): records a call that bypassed the cache. */
  recordBypass(name: string, key: string): void {
    this.observerOfCall()?.push({ name, key, status: 'bypass', ageMs: 0 });
  }

  /** Internal (CACHE_MANAGER store and tests): the Redis store. */
  get redis(): CacheRedisStore {
    return this.store;
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    this.store.client.off('ready', this.releaseUnreleased);
    if (this.background.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.background]),
        new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    await this.bus?.stop();
    this.store.close();
    this.l1?.clear();
  }

  /** Internal (decorators): the entry key of a cache key (validates it). */
  entryKeyOf(key: string): string {
    assertCacheKey(key);
    return this.store.entryKey(boundCacheKey(key));
  }

  /** Internal (decorators): resolves with L1, single-flight, stale handling and fail-open. */
  resolve<T>(plan: LoadPlan<T>): Promise<CacheResult<T>> {
    return this.lookup(plan, false) as Promise<CacheResult<T>>;
  }

  /** Internal (decorators): like `resolve`, answering the value only (no result object on the hot path). */
  resolveValue<T>(plan: LoadPlan<T>): Promise<T> {
    return this.lookup(plan, true) as Promise<T>;
  }

  /**
   * The hot path, kept free of `async` layers: an L1 hit settles at once, a Redis hit is one GET and one `then`.
   * Only misses (and failures) enter the single-flight load map; hits never wait for a load.
   */
  private lookup<T>(plan: LoadPlan<T>, valueOnly: boolean): Promise<unknown> {
    if (this.busStarting === undefined) this.startBus();
    plan.observer = this.observerOfCall();
    if (this.l1 !== undefined) {
      const local = this.readL1(plan.key, Date.now());
      if (local !== undefined) {
        plan.counters.hits++;
        return Promise.resolve(this.finish(plan, local, valueOnly));
      }
    }
    plan.entryKey ??= this.entryKeyOf(plan.key);
    const ready = plan as ReadyPlan<T>;
    const entryKey = ready.entryKey;
    if (this.inflight.has(entryKey)) return this.load(ready, valueOnly);
    // Lookups of one key started in the same event-loop turn share one GET (a burst on a cold or hot key is one
    // round trip). The map is emptied once per turn rather than entry by entry, which keeps it cheap.
    let read = this.reads.get(entryKey);
    if (read === undefined) {
      read = this.store.get(entryKey);
      if (this.reads.size === 0) setImmediate(this.clearReads);
      this.reads.set(entryKey, read);
    }
    return read.then(
      (data) => this.afterGet(ready, data, valueOnly),
      (error: unknown) => this.load(ready, valueOnly, error),
    );
  }

  private afterGet<T>(plan: ReadyPlan<T>, data: Buffer | null, valueOnly: boolean): unknown {
    if (data === null || !isEntry(data)) return this.load(plan, valueOnly);
    const now = Date.now();
    if (now < entryFreshUntil(data)) {
      plan.counters.hits++;
      const value = decodeValue(this.options.serializer, data);
      if (this.l1 === undefined && valueOnly && plan.observer === undefined) return value;
      const entry: CacheEntry = { value, createdAt: entryCreatedAt(data), freshUntil: entryFreshUntil(data) };
      if (this.l1 !== undefined) this.writeL1(plan.key, entry);
      return this.finish(plan, { value, status: 'hit', tier: 'redis', ageMs: now - entry.createdAt }, valueOnly);
    }
    const entry = decodeEntry(this.options.serializer, data) as CacheEntry;
    const stale: CacheResult<unknown> = {
      value: entry.value,
      status: 'stale',
      tier: 'redis',
      ageMs: now - entry.createdAt,
    };
    if (this.options.refreshInBackground) {
      plan.counters.stale++;
      this.refreshInBackground(plan);
      return this.finish(plan, stale, valueOnly);
    }
    // Grace only: wait for the loader (single-flight), serve the stale value if it throws.
    return this.flight(plan, undefined, false).then(
      (result) => this.finish(plan, result, valueOnly),
      (error: unknown) => {
        plan.counters.stale++;
        this.logger.warn(CACHE_SERVED_STALE_AFTER_ERROR(plan.name, plan.key, describe(error)));
        return this.finish(plan, stale, valueOnly);
      },
    );
  }

  private load<T>(plan: ReadyPlan<T>, valueOnly: boolean, error?: unknown): Promise<unknown> {
    return this.flight(plan, error, true).then((result) => this.finish(plan, result, valueOnly));
  }

  /**
   * Misses and failures: one load per key in this process; the other callers join it and are counted like it.
   * With `error` (Redis failed) the load runs uncached, still once.
   */
  private flight<T>(plan: ReadyPlan<T>, error: unknown, checkEntry: boolean): Promise<CacheResult<unknown>> {
    const current = this.inflight.get(plan.entryKey);
    if (current !== undefined) {
      return current.then((result) => {
        this.count(plan.counters, result.status);
        return result;
      });
    }
    if (error === undefined) plan.counters.misses++;
    const started: Promise<CacheResult<unknown>> =
      error === undefined ? this.loadCold(plan, checkEntry) : this.loadUncached(plan, error);
    this.inflight.set(plan.entryKey, started);
    const clear = () => this.inflight.delete(plan.entryKey);
    started.then(clear, clear);
    return started;
  }

  /** Reports the call to `observe()` / `observeCall()` and picks what the caller gets. */
  private finish(plan: LoadPlan<unknown>, result: CacheResult<unknown>, valueOnly: boolean): unknown {
    plan.observer?.push({
      name: plan.name,
      key: plan.key,
      status: result.status,
      tier: result.tier,
      ageMs: result.ageMs,
    });
    return valueOnly ? result.value : result;
  }

  private refreshInBackground<T>(plan: ReadyPlan<T>): void {
    if (this.refreshing.has(plan.entryKey) || this.destroyed) return;
    this.refreshing.add(plan.entryKey);
    const token = newToken();
    const task = (async () => {
      const claim = await this.store.claim(plan.entryKey, token, this.options.lockTtl, false);
      // Another replica is refreshing it already.
      if (claim.kind !== 'acquired') return;
      await this.loadAndStore(plan, claim.generation, token);
    })()
      .catch((error: unknown) => {
        if (error instanceof CacheUnavailable) this.failOpen(plan.name, error);
        else this.logger.warn(CACHE_REFRESH_FAILED(plan.name, plan.key, describe(error)));
      })
      .finally(() => {
        this.refreshing.delete(plan.entryKey);
        this.background.delete(task);
      });
    this.background.add(task);
  }

  /**
   * A miss: take the loading lock, or wait for the replica that holds it, then load if still needed. A waiter is
   * woken by the holder's "value landed" message and also re-checks Redis at bounded intervals (the message may be
   * lost in an outage): it is served as soon as the value is there, and takes the lock over as soon as it is free.
   * After `lockWait` it loads without the lock; with the pub/sub side down it does so at once.
   */
  private async loadCold<T>(plan: ReadyPlan<T>, checkEntry = true): Promise<CacheResult<T>> {
    const token = newToken();
    await this.busReady(this.options.lockWait);
    const deadline = Date.now() + this.options.lockWait;
    let check = checkEntry;
    for (let recheck = FIRST_WAIT_RECHECK_MS; ; recheck = Math.min(recheck * 2, MAX_WAIT_RECHECK_MS)) {
      // Registered before the claim, so a message published in between is not missed.
      const bus = this.bus?.live && !this.destroyed ? this.bus : undefined;
      const waiter = bus?.wait(plan.entryKey, Math.max(0, Math.min(recheck, deadline - Date.now())));
      let claim: ClaimResult;
      try {
        claim = await this.store.claim(plan.entryKey, token, this.options.lockTtl, check);
      } catch (error) {
        waiter?.cancel();
        return this.loadUncached(plan, error);
      }
      if (claim.kind === 'value') {
        waiter?.cancel();
        const landed = this.served<T>(plan.entryKey, claim.data);
        if (landed) return landed;
        return this.loadAndStore(plan, '0', '');
      }
      if (claim.kind === 'acquired') {
        waiter?.cancel();
        return this.loadAndStore(plan, claim.generation, token);
      }
      if (waiter === undefined || Date.now() >= deadline) {
        waiter?.cancel();
        return this.loadAndStore(plan, claim.generation, '');
      }
      // Woken: the value landed (or the holder gave up), so read it even for a grace-only refresh.
      check = (await waiter.done) || checkEntry;
    }
  }

  /** Runs the loader and stores its result, fenced by the generations read before it started. */
  private async loadAndStore<T>(plan: ReadyPlan<T>, generation: string, token: string): Promise<CacheResult<T>> {
    let tagGenerations: string[];
    try {
      tagGenerations = await this.tagFence(plan.tags);
    } catch (error) {
      if (token) void this.releaseAndWake(plan.entryKey, token);
      return this.loadUncached(plan, error);
    }
    let value: T;
    try {
      plan.counters.loads++;
      value = await plan.loader();
    } catch (error) {
      if (token) await this.releaseAndWake(plan.entryKey, token);
      throw error;
    }
    if (value === undefined || plan.unless?.(value)) {
      if (token) await this.releaseAndWake(plan.entryKey, token);
      return { value, status: 'miss', ageMs: 0 };
    }
    await this.storeFenced(
      plan.entryKey,
      value,
      plan.ttl,
      plan.staleTtl,
      plan.tags,
      generation,
      tagGenerations,
      token,
      plan.name,
    );
    return { value, status: 'miss', ageMs: 0 };
  }

  /**
   * Stores unless an eviction happened since the fence was read. Tags first: the entry joins its tag sets, then
   * the tags' generations are compared, then the entry is written if its own generation is unchanged. So an
   * invalidation either sees the entry in the tag set (and evicts it, bumping its generation) or bumped a tag
   * generation this check sees.
   */
  private async storeFenced(
    entryKey: string,
    value: unknown,
    ttl: number,
    staleTtl: number,
    tags: string[],
    generation: string,
    tagGenerations: string[],
    token: string,
    name: string,
  ): Promise<void> {
    this.reads.delete(entryKey);
    try {
      if (tags.length > 0) {
        const now = await this.store.addToTags(entryKey, tags, ttl + staleTtl);
        if (now.some((g, i) => g !== tagGenerations[i])) {
          if (token) await this.releaseAndWake(entryKey, token);
          return;
        }
      }
      const now = Date.now();
      const data = encodeEntry(this.options.serializer, value, now, now + ttl);
      const stored = await this.store.store(entryKey, generation, data, ttl + staleTtl, token);
      if (stored) this.writeL1(this.store.keyOf(entryKey), { value, createdAt: now, freshUntil: now + ttl });
      // Wakes waiting replicas (also when refused: they then load themselves) and drops other L1 copies.
      await this.announce([entryKey]);
    } catch (error) {
      this.failOpen(name, error);
      if (token) void this.releaseAndWake(entryKey, token);
    }
  }

  /**
   * Releases this caller's loading lock and wakes the replicas waiting for it. When Redis cannot be reached, the
   * lock is released once the connection is ready again (else it would hold other replicas' misses until it
   * expires); waiters re-check Redis meanwhile.
   */
  private async releaseAndWake(entryKey: string, token: string, retry = true): Promise<void> {
    try {
      await this.store.release(entryKey, token);
      await this.announce([entryKey]);
    } catch {
      if (retry && !this.destroyed) this.keepUnreleased(entryKey, token);
    }
  }

  private keepUnreleased(entryKey: string, token: string): void {
    const now = Date.now();
    // Only grows while Redis stays unreachable or too slow; expired locks need no release.
    if (this.unreleased.size >= 1_024) {
      for (const [key, lock] of this.unreleased) if (lock.expiresAt <= now) this.unreleased.delete(key);
    }
    this.unreleased.set(entryKey, { token, expiresAt: now + this.options.lockTtl });
  }

  private async tagFence(tags: string[]): Promise<string[]> {
    return tags.length > 0 ? this.store.tagGenerations(tags) : [];
  }

  private async loadUncached<T>(plan: ReadyPlan<T>, error: unknown): Promise<CacheResult<T>> {
    this.failOpen(plan.name, error);
    plan.counters.loads++;
    const value = await plan.loader();
    return { value, status: 'bypass', ageMs: 0 };
  }

  private async evictEntries(entryKeys: string[], name: string): Promise<void> {
    for (const entryKey of entryKeys) {
      this.l1?.delete(this.store.keyOf(entryKey));
      this.reads.delete(entryKey);
    }
    try {
      await this.store.evict(entryKeys);
      await this.announce(entryKeys);
    } catch (error) {
      this.failOpen(name, error);
    }
  }

  private served<T>(entryKey: string, data: Buffer): CacheResult<T> | undefined {
    const entry = decodeEntry(this.options.serializer, data);
    if (!entry) return undefined;
    const now = Date.now();
    if (now < entry.freshUntil) this.writeL1(this.store.keyOf(entryKey), entry);
    return {
      value: entry.value as T,
      status: now < entry.freshUntil ? 'hit' : 'stale',
      tier: 'redis',
      ageMs: now - entry.createdAt,
    };
  }

  private announce(entryKeys: string[]): Promise<unknown> {
    return this.store.publish(this.bus?.changed(entryKeys) ?? JSON.stringify({ o: '-', k: entryKeys }));
  }

  /** L1 is keyed by cache key (not entry key): a hit builds no Redis key. */
  private readL1(key: string, now: number): CacheResult<unknown> | undefined {
    if (this.l1 === undefined || !this.bus?.live) return undefined;
    const entry = this.l1.get(boundCacheKey(key), now);
    if (entry === undefined || now >= entry.freshUntil) return undefined;
    return { value: entry.value, status: 'hit', tier: 'l1', ageMs: now - entry.createdAt };
  }

  private writeL1(key: string, entry: CacheEntry): void {
    if (this.l1 === undefined || !this.bus?.live || this.options.l1 === undefined) return;
    const expiresAt = Math.min(Date.now() + this.options.l1.ttl, entry.freshUntil);
    this.l1.set(key, { value: entry.value, createdAt: entry.createdAt, freshUntil: entry.freshUntil, expiresAt });
  }

  private count(counters: CacheCounters, status: CacheServedStatus): void {
    if (status === 'hit') counters.hits++;
    else if (status === 'stale') counters.stale++;
    else if (status === 'miss') counters.misses++;
  }

  /** The collector of the `observeCall()` or `observe()` this call runs in, if any. */
  private observerOfCall(): CacheServedInfo[] | undefined {
    return this.capturing ?? this.observers.getStore();
  }

  /** Starts the pub/sub side on first use (so apps that never cache open no subscriber connection). */
  private startBus(): void {
    if (this.busStarting || this.destroyed) return;
    this.busStarting = (async () => {
      const subscriber = await this.registry.getSubscriber(DEFAULT_REDIS_CONNECTION);
      const bus = new CacheBus(subscriber, this.store.channel, this.l1, (entryKey) => this.store.keyOf(entryKey));
      this.bus = bus;
      await bus.start();
    })().catch((error: unknown) => this.failOpen('default', error));
  }

  private async busReady(timeoutMs: number): Promise<void> {
    this.startBus();
    if (this.bus?.live) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.busStarting, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Logs a cache failure at most once per `errorLogInterval` per cache name, counting the others. */
  private failOpen(name: string, error: unknown): void {
    this.metrics.for(name).errors++;
    const now = Date.now();
    const state = this.failures.get(name) ?? { lastLogAt: 0, suppressed: 0 };
    this.failures.set(name, state);
    if (now - state.lastLogAt < this.options.errorLogInterval) {
      state.suppressed++;
      return;
    }
    this.logger.warn(CACHE_FAIL_OPEN(name, describe(error), state.suppressed));
    state.lastLogAt = now;
    state.suppressed = 0;
  }
}

function newToken(): string {
  return randomBytes(8).toString('hex');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
