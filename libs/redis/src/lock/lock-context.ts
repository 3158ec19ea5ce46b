import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from './lock.interface.js';

interface LockFrame {
  /** Locks held by this call chain, by resource. */
  held: ReadonlyMap<string, Lock>;
  /** The lock taken last (innermost). */
  current: Lock;
}

/**
 * The locks held by the current async call chain (AsyncLocalStorage), so a `@WithLock` method can read its lock and
 * a nested `@WithLock` on the same resource re-enters instead of waiting for itself.
 */
export class LockContext {
  private readonly storage = new AsyncLocalStorage<LockFrame>();

  /** The innermost lock of the call chain, or the one it holds on `resource`. */
  get(resource?: string): Lock | undefined {
    const frame = this.storage.getStore();
    return resource === undefined ? frame?.current : frame?.held.get(resource);
  }

  /** Runs `fn` with `lock` added to the call chain's locks. */
  run<T>(lock: Lock, fn: () => T): T {
    const held = new Map(this.storage.getStore()?.held);
    held.set(lock.resource, lock);
    return this.storage.run({ held, current: lock }, fn);
  }
}
