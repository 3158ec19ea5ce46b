import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { decodeEntry, encodeEntry } from './cache-entry.codec.js';
import type { CacheCallOptions } from './cache-call-options.js';
import { countServed, type CacheResult, type ReadyPlan } from './cache-load.plan.js';
import type { ClaimResult } from './cache-redis.store.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheStack } from './cache.stack.js';
import { LoadingLockReleaser } from './loading-lock.releaser.js';

/**
 * A replica waiting for another's load re-checks Redis after 50 ms, then at doubling intervals up to this bound, even
 * without a "value landed" message: the message is lost when the loader's publish failed (Redis restarting,
 * paused or failing over) although its value, or the release of its lock, did reach Redis.
 */
const MAX_WAIT_RECHECK_MS = 500;
const FIRST_WAIT_RECHECK_MS = 50;

/** The generations read before a loader or producer started: the write is refused if an eviction bumped one. */
export interface EvictionFence {
  generation: string;
  tagGenerations: string[];
}

/** One fenced write of `CacheLoader.storeFenced()`. */
export interface FencedWrite {
  entryKey: string;
  value: unknown;
  ttl: number;
  staleTtl: number;
  tags: string[];
  fence: EvictionFence;
  /** The loading lock this caller holds, released with the write (`''`: none). */
  lockToken: string;
  /** The cache name fail-open warnings are reported under. */
  name: string;
}

/**
 * Internal: runs loaders (README: "Stampede protection", "Eviction wins", "Fail-open").
 * - `load()`: one load per key in this process (single-flight); the first caller of a miss takes the cross-replica
 *   loading lock or waits for the replica holding it, then runs the loader and stores its result;
 * - `runLoader()`: the loader itself, its result stored fenced by the generations read before it started (also used
 *   by the background refresh);
 * - `put()`: `@CachePut` / `CacheService.put()`, a producer whose result is stored fenced the same way.
 */
@Injectable()
export class CacheLoader {
  private readonly inflight = new Map<string, Promise<CacheResult<unknown>>>();

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
    private readonly locks: LoadingLockReleaser,
    @Optional() private readonly instrumentation?: RedisInstrumentation,
  ) {}

  /** Whether a load of `entryKey` is running in this process (a lookup then joins it without reading Redis). */
  isLoading(entryKey: string): boolean {
    return this.inflight.has(entryKey);
  }

  /**
   * Misses and failures: one load per key in this process; the other callers join it and are counted like it.
   * With `failure` (Redis failed) the load runs uncached, still once.
   *
   * @param checkEntry whether the claim first looks for an entry that landed meanwhile (`false` for a grace-only
   *   refresh of a stale entry, which must load anyway)
   */
  load<T>(plan: ReadyPlan<T>, failure?: unknown, checkEntry = true): Promise<CacheResult<unknown>> {
    const current = this.inflight.get(plan.entryKey);
    if (current !== undefined) {
      return current.then((result) => {
        countServed(plan.counters, result.status);
        return result;
      });
    }
    if (failure === undefined) plan.counters.misses++;
    const started: Promise<CacheResult<unknown>> =
      failure === undefined ? this.claimOrWait(plan, checkEntry) : this.runUncached(plan, failure);
    this.inflight.set(plan.entryKey, started);
    const clear = () => this.inflight.delete(plan.entryKey);
    started.then(clear, clear);
    return started;
  }

  /**
   * Runs `producer` and stores its result under `key` unless an eviction happened while it ran; the value is
   * returned either way.
   */
  async put<T>(key: string, producer: () => Promise<T> | T, call: CacheCallOptions<T>, tags: string[]): Promise<T> {
    this.stack.startBus();
    const entryKey = this.stack.entryKeyOf(key);
    let fence: EvictionFence | undefined;
    try {
      fence = { generation: await this.stack.store.generation(entryKey), tagGenerations: await this.tagFence(tags) };
    } catch (error) {
      this.stack.failOpen(call.name, error);
    }
    const value = await producer();
    if (fence && value !== undefined && !call.unless?.(value)) {
      await this.storeFenced({ ...call, entryKey, value, tags, fence, lockToken: '' });
    }
    return value;
  }

  /**
   * Runs the loader and stores its result, fenced by the generations read before it started; releases the loading
   * lock held with `lockToken` (`''`: none) whatever happens.
   */
  async runLoader<T>(plan: ReadyPlan<T>, generation: string, lockToken: string): Promise<CacheResult<T>> {
    let tagGenerations: string[];
    try {
      tagGenerations = await this.tagFence(plan.tags);
    } catch (error) {
      if (lockToken) void this.locks.release(plan.entryKey, lockToken);
      return this.runUncached(plan, error);
    }
    let value: T;
    try {
      value = await this.callLoader(plan);
    } catch (error) {
      if (lockToken) await this.locks.release(plan.entryKey, lockToken);
      throw error;
    }
    if (value === undefined || plan.unless?.(value)) {
      if (lockToken) await this.locks.release(plan.entryKey, lockToken);
      return { value, status: 'miss', ageMs: 0 };
    }
    await this.storeFenced({
      entryKey: plan.entryKey,
      value,
      ttl: plan.ttl,
      staleTtl: plan.staleTtl,
      tags: plan.tags,
      fence: { generation, tagGenerations },
      lockToken,
      name: plan.name,
    });
    return { value, status: 'miss', ageMs: 0 };
  }

  /**
   * A miss: take the loading lock, or wait for the replica that holds it, then load if still needed. A waiter is
   * woken by the holder's "value landed" message and also re-checks Redis at bounded intervals (the message may be
   * lost in an outage): it is served as soon as the value is there, and takes the lock over as soon as it is free.
   * After `lockWait` it loads without the lock; with the pub/sub side down it does so at once.
   */
  private async claimOrWait<T>(plan: ReadyPlan<T>, checkEntry: boolean): Promise<CacheResult<T>> {
    const token = randomBytes(8).toString('hex');
    await this.stack.busReady(this.options.lockWait);
    const deadline = Date.now() + this.options.lockWait;
    let check = checkEntry;
    for (let recheck = FIRST_WAIT_RECHECK_MS; ; recheck = Math.min(recheck * 2, MAX_WAIT_RECHECK_MS)) {
      // Registered before the claim, so a message published in between is not missed.
      const bus = this.stack.bus?.live && !this.stack.destroyed ? this.stack.bus : undefined;
      const waiter = bus?.wait(plan.entryKey, Math.max(0, Math.min(recheck, deadline - Date.now())));
      let claim: ClaimResult;
      const l1Token = this.stack.l1Token();
      try {
        claim = await this.stack.claim(plan.entryKey, token, check);
      } catch (error) {
        waiter?.cancel();
        return this.runUncached(plan, error);
      }
      if (claim.kind === 'value') {
        waiter?.cancel();
        const landed = this.landed<T>(plan.entryKey, claim.data, l1Token);
        if (landed) return landed;
        return this.runLoader(plan, '0', '');
      }
      if (claim.kind === 'acquired') {
        waiter?.cancel();
        return this.runLoader(plan, claim.generation, token);
      }
      if (waiter === undefined || Date.now() >= deadline) {
        waiter?.cancel();
        return this.runLoader(plan, claim.generation, '');
      }
      // Woken: the value landed (or the holder gave up), so read it even for a grace-only refresh.
      check = (await waiter.done) || checkEntry;
    }
  }

  /** Fail-open: Redis failed, so the loader runs without the cache (logged, rate-limited). */
  private async runUncached<T>(plan: ReadyPlan<T>, error: unknown): Promise<CacheResult<T>> {
    this.stack.failOpen(plan.name, error);
    const value = await this.callLoader(plan);
    return { value, status: 'bypass', ageMs: 0 };
  }

  /** One loader run: counted, and reported (`cache.load`, its duration and whether it threw) for the metrics. */
  private async callLoader<T>(plan: ReadyPlan<T>): Promise<T> {
    plan.counters.loads++;
    const started = performance.now();
    let failed = true;
    try {
      const value = await plan.loader();
      failed = false;
      return value;
    } finally {
      this.instrumentation?.emit('cache.load', { cache: plan.name, durationMs: performance.now() - started, failed });
    }
  }

  /**
   * Stores unless an eviction happened since the fence was read. Tags first: the entry joins its tag sets, then
   * the tags' generations are compared, then the entry is written if its own generation is unchanged. So an
   * invalidation either sees the entry in the tag set (and evicts it, bumping its generation) or bumped a tag
   * generation this check sees.
   */
  private async storeFenced(write: FencedWrite): Promise<void> {
    const { entryKey, value, ttl, staleTtl, tags, fence, lockToken } = write;
    const store = this.stack.store;
    this.stack.forgetRead(entryKey);
    try {
      if (tags.length > 0) {
        const now = await store.addToTags(entryKey, tags, ttl + staleTtl);
        if (now.some((g, i) => g !== fence.tagGenerations[i])) {
          if (lockToken) await this.locks.release(entryKey, lockToken);
          return;
        }
      }
      const now = Date.now();
      const data = encodeEntry(this.options.serializer, value, now, now + ttl);
      const l1Token = this.stack.l1Token();
      const stored = await store.store(entryKey, fence.generation, data, ttl + staleTtl, lockToken);
      if (stored) this.stack.writeL1(store.keyOf(entryKey), { value, createdAt: now, freshUntil: now + ttl }, l1Token);
      // Wakes waiting replicas (also when refused: they then load themselves) and drops other L1 copies.
      await this.stack.announce([entryKey]);
    } catch (error) {
      this.stack.failOpen(write.name, error);
      if (lockToken) void this.locks.release(entryKey, lockToken);
    }
  }

  private async tagFence(tags: string[]): Promise<string[]> {
    return tags.length > 0 ? this.stack.store.tagGenerations(tags) : [];
  }

  /** The value another replica's load stored meanwhile, as the claim script found it. */
  private landed<T>(entryKey: string, data: Buffer, l1Token: number): CacheResult<T> | undefined {
    const entry = decodeEntry(this.options.serializer, data, this.stack.rejected);
    if (!entry) return undefined;
    const now = Date.now();
    if (now < entry.freshUntil) this.stack.writeL1(this.stack.store.keyOf(entryKey), entry, l1Token);
    return {
      value: entry.value as T,
      status: now < entry.freshUntil ? 'hit' : 'stale',
      tier: 'redis',
      ageMs: now - entry.createdAt,
    };
  }
}
