import { TaggedJsonCacheSerializer } from './serializers/tagged-json.serializer.js';
import type { CacheSerializer } from './serializers/cache-serializer.interface.js';
import type { CacheModuleOptions, ResolvedCacheOptions } from './cache-options.interface.js';
import {
  fail,
  optionalBoolean,
  optionalDuration,
  optionalObject,
  rejectUnknownKeys,
} from '../options/option-checks.js';
import { optionKeys } from '../utils/option-keys.js';

/** Every field of `CacheModuleOptions` (checked by the compiler against the type). */
const CACHE_OPTION_KEYS = optionKeys<CacheModuleOptions>()([
  'ttl',
  'staleTtl',
  'refreshInBackground',
  'commandTimeout',
  'lockTtl',
  'lockWait',
  'l1',
  'serializer',
  'errorLogInterval',
  'cacheManager',
]);
const L1_OPTION_KEYS = optionKeys<NonNullable<CacheModuleOptions['l1']>>()(['maxEntries', 'ttl', 'tracking']);

/** The defaults of the `cache` options, kept in one place. */
export const CACHE_DEFAULTS = {
  ttl: 60_000,
  staleTtl: 0,
  refreshInBackground: true,
  commandTimeout: 250,
  lockTtl: 10_000,
  lockWait: 5_000,
  l1Ttl: 10_000,
  l1Tracking: false,
  errorLogInterval: 10_000,
  cacheManager: true,
} as const;

/**
 * Validates and defaults the module's `cache` options (absent: every default). Called by `resolveRedisOptions`.
 *
 * @throws RedisOptionsError naming the offending field (`cache.l1.maxEntries`, …)
 */
export function resolveCacheOptions(raw: unknown): ResolvedCacheOptions {
  const options = optionalObject(raw, 'cache') ?? {};
  rejectUnknownKeys(options, CACHE_OPTION_KEYS, 'cache');
  const l1Raw = optionalObject(options.l1, 'cache.l1');
  let l1: ResolvedCacheOptions['l1'];
  if (l1Raw) {
    rejectUnknownKeys(l1Raw, L1_OPTION_KEYS, 'cache.l1');
    const maxEntries = l1Raw.maxEntries;
    if (typeof maxEntries !== 'number' || !Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 10_000_000) {
      fail('cache.l1.maxEntries', 'an integer between 1 and 10000000', maxEntries);
    }
    l1 = {
      maxEntries,
      ttl: optionalDuration(l1Raw.ttl, 'cache.l1.ttl') ?? CACHE_DEFAULTS.l1Ttl,
      tracking: optionalBoolean(l1Raw.tracking, 'cache.l1.tracking') ?? CACHE_DEFAULTS.l1Tracking,
    };
  }
  const serializer = options.serializer;
  if (serializer !== undefined && !isSerializer(serializer)) {
    fail('cache.serializer', 'an object with serialize(value) and deserialize(buffer) methods', serializer);
  }
  const resolved: ResolvedCacheOptions = {
    ttl: optionalDuration(options.ttl, 'cache.ttl') ?? CACHE_DEFAULTS.ttl,
    staleTtl: optionalDuration(options.staleTtl, 'cache.staleTtl', { min: 0 }) ?? CACHE_DEFAULTS.staleTtl,
    refreshInBackground:
      optionalBoolean(options.refreshInBackground, 'cache.refreshInBackground') ?? CACHE_DEFAULTS.refreshInBackground,
    commandTimeout:
      optionalDuration(options.commandTimeout, 'cache.commandTimeout', { max: 60_000 }) ??
      CACHE_DEFAULTS.commandTimeout,
    lockTtl: optionalDuration(options.lockTtl, 'cache.lockTtl') ?? CACHE_DEFAULTS.lockTtl,
    lockWait: optionalDuration(options.lockWait, 'cache.lockWait', { min: 0 }) ?? CACHE_DEFAULTS.lockWait,
    l1,
    serializer: (serializer as CacheSerializer | undefined) ?? new TaggedJsonCacheSerializer(),
    errorLogInterval:
      optionalDuration(options.errorLogInterval, 'cache.errorLogInterval', { min: 0 }) ??
      CACHE_DEFAULTS.errorLogInterval,
    cacheManager: optionalBoolean(options.cacheManager, 'cache.cacheManager') ?? CACHE_DEFAULTS.cacheManager,
  };
  return resolved;
}

function isSerializer(value: unknown): value is CacheSerializer {
  const candidate = value as Partial<CacheSerializer> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.serialize === 'function' &&
    typeof candidate.deserialize === 'function'
  );
}
