import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { LOCK_DEFAULTS, resolveLockTimings } from './resolve-lock-options.js';
import { rejectUnknownKeys } from '../options/option-checks.js';
import { WITH_LOCK_METADATA } from './lock.constants.js';
import { canonicalLockResources, MAX_LOCK_RESOURCES } from './lock-resource.js';
import type { WithLockOptions } from './with-lock-options.interface.js';

const WITH_LOCK_KEYS = ['key', 'ttl', 'waitTimeout', 'retryDelay', 'retryJitter', 'autoExtend', 'maxHoldTime'];

/** Checks `@WithLock` options when the class is defined, so a typo fails at startup rather than on first call. */
function validateWithLockOptions(options: WithLockOptions, where: string): void {
  const path = `@WithLock on ${where}`;
  if (typeof options !== 'object' || options === null) {
    throw new RedisOptionsError(`Invalid ${path}: expected an options object with a "key".`, path);
  }
  const { key } = options;
  if (Array.isArray(key)) {
    try {
      canonicalLockResources(key);
    } catch (error) {
      const field = error instanceof RedisOptionsError ? error.field.replace(/^resources/, '') : '';
      throw new RedisOptionsError(
        `Invalid ${path}.key${field}: expected a non-empty array of at most ${MAX_LOCK_RESOURCES} non-empty resource names.`,
        `${path}.key${field}`,
      );
    }
  } else if (!(typeof key === 'function' || (typeof key === 'string' && key.length > 0))) {
    throw new RedisOptionsError(
      `Invalid ${path}.key: expected a non-empty string, an array of them, or a function of the arguments returning one.`,
      `${path}.key`,
    );
  }
  rejectUnknownKeys(options as unknown as Record<string, unknown>, WITH_LOCK_KEYS, path);
  resolveLockTimings(options as unknown as Record<string, unknown>, path, LOCK_DEFAULTS);
}

const withLock = createMethodDecorator<WithLockOptions>(WITH_LOCK_METADATA, '@WithLock', validateWithLockOptions);

/**
 * Runs the method under a distributed lock on `key` and releases it afterwards, also when the method throws. The
 * method then always returns a Promise.
 *
 * - Not acquired within `waitTimeout` (contention, Redis down, no Redlock quorum) → rejects with
 *   `LockNotAcquiredError` carrying the resource; the method does not run (fails closed).
 * - Inside the method, `lockService.current()` is the lock (its `signal` aborts with `LockLostError` if the lock is
 *   lost, its `fencingToken` orders writes).
 * - `key` may give several resources (an array, or a function returning one): they are all held, or the method
 *   does not run; they are taken in canonical order, so methods listing them in any order cannot deadlock.
 *   `lockService.current(resource)` is each one's lock.
 * - A nested `@WithLock` on the same resource in the same call chain re-enters the held lock instead of waiting
 *   for itself (with several resources: when the chain holds them all; otherwise the missing ones are acquired);
 *   a different resource is acquired normally (take nested locks in a consistent order).
 * - If the lock was lost before the method settled, the call rejects with `LockLostError`, even if the method
 *   resolved.
 * - The release after the method waits for Redis at most `lock.releaseTimeout`: during an outage the call still
 *   settles with the method's outcome (a warning is logged) and the lock expires after its ttl.
 *
 * @param options `key` (string or function of the arguments) and per-method `ttl`, `waitTimeout`, `autoExtend`,
 *   `maxHoldTime`, `retryDelay`, `retryJitter` (module `lock` defaults otherwise)
 * @example
 * ```ts
 * @Injectable()
 * export class BookingsService {
 *   constructor(private readonly locks: LockService) {}
 *
 *   @WithLock({ key: (slotId: string) => `slot:${slotId}`, ttl: 5_000 })
 *   async book(slotId: string, userId: string): Promise<Booking> {
 *     const lock = this.locks.current();
 *     return this.repository.insert({ slotId, userId }, { fencingToken: lock?.fencingToken });
 *   }
 * }
 * ```
 */
export const WithLock = (options: WithLockOptions): MethodDecorator => withLock(options);
