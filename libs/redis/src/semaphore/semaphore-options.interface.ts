import type { LockOptions } from '../lock/lock-options.interface.js';

/**
 * Options of one semaphore acquisition (`SemaphoreService.acquire`, `tryAcquire`, `using`). Unset durations take
 * the module's `lock` defaults; they mean what they mean for locks, per permit.
 */
export interface SemaphoreOptions extends LockOptions {
  /**
   * How many holders the semaphore admits at once. Every caller of one semaphore must pass the same number: it is
   * not stored in Redis (a release hands over as many permits as this count leaves free).
   */
  permits: number;
}

/** Options of `@WithSemaphore`. */
export interface WithSemaphoreOptions extends Omit<SemaphoreOptions, 'signal'> {
  /**
   * The semaphore: a fixed name, or a function of the method's arguments. It runs before a permit is taken; if it
   * throws or returns an empty string, the method does not run.
   */
  key: string | ((...args: never[]) => string);
}
