import type { CacheCounters, CacheServedInfo, CacheServedStatus } from './cache-options.interface.js';
import type { CacheCallOptions } from './cache-call-options.js';

/** A value and how it was served. */
export interface CacheResult<T> {
  value: T;
  status: CacheServedStatus;
  tier?: 'l1' | 'redis';
  ageMs: number;
}

/**
 * Internal: everything one get-or-load call needs, resolved once (by `CacheService.wrap()` or by the `@Cacheable`
 * wrapper) and passed along the lookup, the loader and the refresher as one object.
 */
export interface LoadPlan<T> extends CacheCallOptions<T> {
  key: string;
  /** Built on the first L1 miss (an L1 hit never needs it). */
  entryKey?: string;
  loader: () => Promise<T> | T;
  tags: string[];
  counters: CacheCounters;
  /** Where to report how the call was served (`observe()` / `observeCall()`), read once when the lookup starts. */
  observer?: CacheServedInfo[];
  /** The Redis error the lookup failed open on (it then loaded without the cache), for the instrumentation. */
  readError?: unknown;
}

/** A plan once its entry key is built (past the L1 check). */
export type ReadyPlan<T> = LoadPlan<T> & { entryKey: string };

/** Counts a caller that joined a load of this process by how the load was served. */
export function countServed(counters: CacheCounters, status: CacheServedStatus): void {
  if (status === 'hit') counters.hits++;
  else if (status === 'stale') counters.stale++;
  else if (status === 'miss') counters.misses++;
}
