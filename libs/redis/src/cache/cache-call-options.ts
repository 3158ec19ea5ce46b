import type { ResolvedCacheOptions } from './cache-options.interface.js';

/** The per-call options a load, a put or a set accepts (`CacheWrapOptions`, a decorator's options). */
export interface CacheCallInput<T> {
  ttl?: number;
  staleTtl?: number;
  name?: string;
  unless?(result: T): boolean;
}

/** Per-call options with the module's defaults applied. */
export interface CacheCallOptions<T> {
  /** The cache name counters and fail-open warnings are reported under. */
  name: string;
  ttl: number;
  staleTtl: number;
  unless?(result: T): boolean;
}

/**
 * Internal: merges one call's options with the module's `cache` defaults. The one place this happens, used by
 * `CacheService` (per call) and `CacheAspect` (once per decorated method, at startup).
 *
 * @param defaultName the name when the call gives none: `'default'` for `CacheService`, `Class.method` for decorators
 */
export function resolveCallOptions<T>(
  defaults: ResolvedCacheOptions,
  options: CacheCallInput<T>,
  defaultName = 'default',
): CacheCallOptions<T> {
  return {
    name: options.name ?? defaultName,
    ttl: options.ttl ?? defaults.ttl,
    staleTtl: options.staleTtl ?? defaults.staleTtl,
    unless: options.unless,
  };
}
