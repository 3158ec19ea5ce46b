/** Something whose watchdog can be armed later: a held lock. */
export interface DeferredWatchdog {
  armDeferred(): void;
}

/** How often deferred watchdogs are armed. */
const ARM_EVERY_MS = 50;

/**
 * Arms lock watchdogs in batches. Most locks are released long before their first renewal, so a new lock does not
 * create its timer at acquisition: it joins a set, and one shared unref'd interval, running only while the set is
 * not empty, arms the timers of the locks still held every {@link ARM_EVERY_MS}. A lock whose first watchdog event
 * (renewal, or expiry without auto-extension) is due within twice that is armed at once, so deferring never makes
 * an expiry late and moves a renewal by at most {@link ARM_EVERY_MS}, well inside the lock's validity.
 */
export class WatchdogArming {
  private pending = new Set<DeferredWatchdog>();
  private timer?: NodeJS.Timeout;

  /**
   * @param firstEventInMs when the lock's first watchdog event is due
   * @returns `false` when that is too soon to defer: the caller arms at once
   */
  defer(lock: DeferredWatchdog, firstEventInMs: number): boolean {
    if (firstEventInMs < 2 * ARM_EVERY_MS) return false;
    this.pending.add(lock);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.armPending(), ARM_EVERY_MS);
      this.timer.unref();
    }
    return true;
  }

  /** The lock settled before its watchdog was armed. */
  cancel(lock: DeferredWatchdog): void {
    this.pending.delete(lock);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private armPending(): void {
    const locks = this.pending;
    if (locks.size === 0) {
      this.close();
      return;
    }
    this.pending = new Set();
    locks.forEach((lock) => lock.armDeferred());
  }
}
