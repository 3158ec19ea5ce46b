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

  /** Runs `fn` with `locks` added to the call chain's locks; the last one becomes the innermost. */
  run<T>(locks: Lock | readonly Lock[], fn: () => T): T {
    const list: readonly Lock[] = Array.isArray(locks) ? locks : [locks as Lock];
    const held = new Map(this.storage.getStore()?.held);
    list.forEach((lock) => held.set(lock.resource, lock));
    return this.storage.run({ held, current: list[list.length - 1] }, fn);
  }
}
