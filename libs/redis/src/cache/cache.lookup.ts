import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { CORRUPT_ENTRY, decodeEntryValue, entryCreatedAt, entryFreshUntil, isEntry } from './cache-entry.codec.js';
import type { CacheResult, LoadPlan, ReadyPlan } from './cache-load.plan.js';
import { CacheServedObserver } from './cache-served.observer.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheLoader } from './cache.loader.js';
import { CACHE_SERVED_STALE_AFTER_ERROR } from './cache.messages.js';
import { CacheRefresher } from './cache.refresher.js';
import { errorKind, errorText } from '../utils/error-text.js';
import { CacheStack, l1Hit } from './cache.stack.js';

/**
 * Internal: get-or-load, the path of `CacheService.wrap()` and `@Cacheable` (README: "What it guarantees"). L1,
 * then one GET shared by the lookups of that key in this event-loop turn; a fresh entry is a hit, a stale one is
 * served while `CacheRefresher` reloads it (or, grace only, served if the loader throws), a miss goes to
 * `CacheLoader`. Each call is reported to `observe()` / `observeCall()`.
 *
 * Kept free of `async` layers: an L1 hit settles at once, a Redis hit is one GET and one `then`. Only misses (and
 * failures) enter the single-flight load map; hits never wait for a load.
 */
@Injectable()
export class CacheLookup {
  private readonly logger = new Logger('RedisCache');

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
    private readonly loader: CacheLoader,
    private readonly refresher: CacheRefresher,
    private readonly observer: CacheServedObserver,
    @Optional() private readonly instrumentation?: RedisInstrumentation,
  ) {}

  /** The value and how it was served. */
  resolve<T>(plan: LoadPlan<T>): Promise<CacheResult<T>> {
    if (this.instrumentation?.observes('cache.lookup')) return this.reported(plan, false) as Promise<CacheResult<T>>;
    return this.lookup(plan, false) as Promise<CacheResult<T>>;
  }

  /** The value only (no result object on the hot path): what `@Cacheable` answers. */
  resolveValue<T>(plan: LoadPlan<T>): Promise<T> {
    if (this.instrumentation?.observes('cache.lookup')) return this.reported(plan, true) as Promise<T>;
    return this.lookup(plan, true) as Promise<T>;
  }

  /** A lookup reported as a `cache.lookup` event (tracing listens): timed, and how it was served. */
  private reported<T>(plan: LoadPlan<T>, valueOnly: boolean): Promise<unknown> {
    const instrumentation = this.instrumentation as RedisInstrumentation;
    const startedAt = performance.now();
    const emit = (outcome: 'hit' | 'stale' | 'miss' | 'error', tier?: 'l1' | 'redis'): void => {
      const { readError } = plan;
      instrumentation.emit('cache.lookup', {
        cache: plan.name,
        key: plan.key,
        outcome,
        tier,
        durationMs: performance.now() - startedAt,
        readError: readError === undefined ? undefined : errorKind(readError),
      });
    };
    return (this.lookup(plan, false) as Promise<CacheResult<T>>).then(
      (result) => {
        emit(result.status === 'bypass' ? 'miss' : result.status, result.tier);
        return valueOnly ? result.value : result;
      },
      (error: unknown) => {
        emit('error');
        throw error;
      },
    );
  }

  private lookup<T>(plan: LoadPlan<T>, valueOnly: boolean): Promise<unknown> {
    const stack = this.stack;
    if (!stack.busRequested) stack.startBus();
    plan.observer = this.observer.current();
    if (stack.l1 !== undefined) {
      const now = Date.now();
      const local = stack.readL1Entry(plan.key, now);
      if (local !== undefined) {
        plan.counters.hits++;
        // `@Cacheable` and `wrap()` outside `observe()`: the value alone, no result object.
        if (valueOnly && plan.observer === undefined) return Promise.resolve(local.value);
        return Promise.resolve(this.report(plan, l1Hit(local, now), valueOnly));
      }
    }
    plan.entryKey ??= stack.entryKeyOf(plan.key);
    const ready = plan as ReadyPlan<T>;
    if (this.loader.isLoading(ready.entryKey)) return this.load(ready, valueOnly);
    const l1Token = stack.l1Token();
    return stack.sharedGet(ready.entryKey).then(
      (data) => this.afterGet(ready, data, valueOnly, l1Token),
      (error: unknown) => {
        ready.readError = error;
        return this.load(ready, valueOnly, error);
      },
    );
  }

  private afterGet<T>(plan: ReadyPlan<T>, data: Buffer | null, valueOnly: boolean, l1Token: number): unknown {
    if (data === null || !isEntry(data)) return this.load(plan, valueOnly);
    const value = decodeEntryValue(this.options.serializer, data, this.stack.rejected);
    if (value === CORRUPT_ENTRY) return this.load(plan, valueOnly);
    const now = Date.now();
    const createdAt = entryCreatedAt(data);
    if (now < entryFreshUntil(data)) {
      plan.counters.hits++;
      if (this.stack.l1 === undefined && valueOnly && plan.observer === undefined) return value;
      if (this.stack.l1 !== undefined)
        this.stack.writeL1(plan.key, { value, createdAt, freshUntil: entryFreshUntil(data) }, l1Token);
      return this.report(plan, { value, status: 'hit', tier: 'redis', ageMs: now - createdAt }, valueOnly);
    }
    const stale: CacheResult<unknown> = { value, status: 'stale', tier: 'redis', ageMs: now - createdAt };
    if (this.options.refreshInBackground) {
      plan.counters.stale++;
      this.refresher.refresh(plan);
      return this.report(plan, stale, valueOnly);
    }
    // Grace only: wait for the loader (single-flight), serve the stale value if it throws.
    return this.loader.load(plan, undefined, false).then(
      (result) => this.report(plan, result, valueOnly),
      (error: unknown) => {
        plan.counters.stale++;
        this.logger.warn(CACHE_SERVED_STALE_AFTER_ERROR(plan.name, plan.key, errorText(error)));
        return this.report(plan, stale, valueOnly);
      },
    );
  }

  private load<T>(plan: ReadyPlan<T>, valueOnly: boolean, failure?: unknown): Promise<unknown> {
    return this.loader.load(plan, failure).then((result) => this.report(plan, result, valueOnly));
  }

  /** Reports the call to `observe()` / `observeCall()` and picks what the caller gets. */
  private report(plan: LoadPlan<unknown>, result: CacheResult<unknown>, valueOnly: boolean): unknown {
    plan.observer?.push({
      name: plan.name,
      key: plan.key,
      status: result.status,
      tier: result.tier,
      ageMs: result.ageMs,
    });
    return valueOnly ? result.value : result;
  }
}
