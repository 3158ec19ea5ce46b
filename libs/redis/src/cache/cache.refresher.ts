import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CacheUnavailableError } from '../errors/cache-unavailable.error.js';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { waitWithin } from '../utils/settle-within.js';
import type { ReadyPlan } from './cache-load.plan.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheLoader } from './cache.loader.js';
import { CACHE_REFRESH_FAILED } from './cache.messages.js';
import { errorText } from '../utils/error-text.js';
import { CacheStack } from './cache.stack.js';

/**
 * Internal: stale-while-revalidate (README: "Stale-while-revalidate and grace"). A stale entry is served at once
 * while one caller per key in this process, and one replica in the cluster (the loading lock), reloads it in the
 * background; a failed refresh is logged and the stale value stays until it expires.
 */
@Injectable()
export class CacheRefresher {
  private readonly logger = new Logger('RedisCache');
  private readonly refreshing = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
    private readonly loader: CacheLoader,
  ) {}

  /** Starts a background refresh of a stale entry, unless one is running already (here or on another replica). */
  refresh<T>(plan: ReadyPlan<T>): void {
    if (this.refreshing.has(plan.entryKey) || this.stack.destroyed) return;
    this.refreshing.add(plan.entryKey);
    const token = randomBytes(8).toString('hex');
    const task = (async () => {
      const claim = await this.stack.store.claim(plan.entryKey, token, this.options.lockTtl, false);
      // Another replica is refreshing it already.
      if (claim.kind !== 'acquired') return;
      await this.loader.runLoader(plan, claim.generation, token);
    })()
      .catch((error: unknown) => {
        if (error instanceof CacheUnavailableError) this.stack.failOpen(plan.name, error);
        else this.logger.warn(CACHE_REFRESH_FAILED(plan.name, plan.key, errorText(error)));
      })
      .finally(() => {
        this.refreshing.delete(plan.entryKey);
        this.background.delete(task);
      });
    this.background.add(task);
  }

  /** Shutdown: waits up to `timeoutMs` for the refreshes still running. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.background.size === 0) return;
    await waitWithin(Promise.allSettled([...this.background]), timeoutMs);
  }
}
