import type { LockOptions } from './lock-options.interface.js';

/** Options of `@WithLock`. Unset durations take the module's `lock` defaults. */
export interface WithLockOptions extends Omit<LockOptions, 'signal'> {
  /**
   * The resource to lock: a fixed name, or a function of the method's arguments (e.g.
   * `(slotId: string) => \`slot:${slotId}\``). It runs before the lock is taken; if it throws or returns an empty
   * string, the method does not run. An array (or a function returning one) locks several resources at once,
   * all-or-nothing and in canonical order, like `LockService.acquire([...])` (e.g.
   * `(from: string, to: string) => [\`account:${from}\`, \`account:${to}\`]`).
   */
  key: string | readonly string[] | ((...args: never[]) => string | readonly string[]);
}
