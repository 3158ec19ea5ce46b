import type { LockLostError } from '../errors/lock-lost.error.js';
import type { LockHandle } from './lock-handle.js';
import type { MultiLock } from './lock.interface.js';

/**
 * The locks of one multi-resource acquisition, held together: one signal that aborts when any of them is lost,
 * one `extend` and one `release` for all. Each resource's {@link LockHandle} keeps its own watchdog, so each lock is
 * renewed against its own validity.
 */
export class MultiLockHandle implements MultiLock {
  readonly resources: readonly string[];
  readonly fencingTokens: Readonly<Record<string, number>>;
  private controller?: AbortController;

  constructor(readonly locks: readonly LockHandle[]) {
    this.resources = Object.freeze(locks.map((lock) => lock.resource));
    // No prototype: a resource named `__proto__` or `constructor` is an ordinary entry.
    const tokens = Object.create(null) as Record<string, number>;
    locks.forEach((lock) => (tokens[lock.resource] = lock.fencingToken));
    this.fencingTokens = Object.freeze(tokens);
  }

  get expiresAt(): number {
    return Math.min(...this.locks.map((lock) => lock.expiresAt));
  }

  /** Created on first use, as a single lock's is; listens to every resource's signal from then on. */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const lost = this.lost;
      if (lost) {
        controller.abort(lost);
      } else {
        const onAbort = (event: Event) => {
          if (!controller.signal.aborted) controller.abort((event.target as AbortSignal).reason);
        };
        this.locks.forEach((lock) => lock.signal.addEventListener('abort', onAbort, { once: true }));
      }
    }
    return this.controller.signal;
  }

  /** The `LockLostError` of the first resource found lost, if any was. */
  get lost(): LockLostError | undefined {
    for (const lock of this.locks) if (lock.lost) return lock.lost;
    return undefined;
  }

  async extend(ttl?: number): Promise<void> {
    const results = await Promise.allSettled(this.locks.map((lock) => lock.extend(ttl)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async release(): Promise<boolean> {
    const results = await Promise.allSettled(this.locks.map((lock) => lock.release()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.every((r) => r.status === 'fulfilled' && r.value);
  }
}
