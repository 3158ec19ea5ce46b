import type { ResolvedLockOptions } from '../lock/lock-options.interface.js';
import { fail, isPlainObject, rejectUnknownKeys } from '../options/option-checks.js';
import { resolveLockTimings } from '../lock/resolve-lock-options.js';

/** Most permits one semaphore may have: beyond it a semaphore is not limiting anything a ZSET should count. */
export const MAX_PERMITS = 100_000;

const SEMAPHORE_OPTION_KEYS = [
  'permits',
  'ttl',
  'waitTimeout',
  'retryDelay',
  'retryJitter',
  'autoExtend',
  'maxHoldTime',
  'signal',
];

/** Resolved options of one acquisition. */
export type ResolvedSemaphoreOptions = Omit<ResolvedLockOptions, 'nodes' | 'driftFactor' | 'releaseTimeout'> & {
  permits: number;
  signal?: AbortSignal;
};

/**
 * Validates one acquisition's options over the lock defaults.
 * @throws RedisOptionsError naming the field (`semaphore options.permits`, `@WithSemaphore on X.y().ttl`, …)
 */
export function resolveSemaphoreOptions(
  raw: unknown,
  path: string,
  defaults: Omit<ResolvedLockOptions, 'nodes' | 'driftFactor' | 'releaseTimeout'>,
  extraKeys: readonly string[] = [],
): ResolvedSemaphoreOptions {
  if (!isPlainObject(raw)) fail(path, 'an options object with "permits"', raw);
  rejectUnknownKeys(raw, [...SEMAPHORE_OPTION_KEYS, ...extraKeys], path);
  const { permits, signal } = raw;
  if (typeof permits !== 'number' || !Number.isInteger(permits) || permits < 1 || permits > MAX_PERMITS) {
    fail(`${path}.permits`, `an integer between 1 and ${MAX_PERMITS}`, permits);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail(`${path}.signal`, 'an AbortSignal', signal);
  const timings = resolveLockTimings(raw, path, defaults);
  return signal === undefined ? { ...timings, permits } : { ...timings, permits, signal };
}
