/** An operation with a deadline, as {@link DeadlineQueue} tracks it. */
export interface Expirable {
  /** Set by the queue: `performance.now()` after which the operation expires. */
  deadline: number;
  /** Called once when the deadline passes before the operation left the queue. */
  expire(): void;
}

/**
 * Deadlines of many operations that all share one timeout (a client's `sendTimeout`, its `emitTimeout`), behind one
 * timer. Because every operation gets the same timeout, insertion order is deadline order: adding and removing are
 * one `Set` operation each, and under steady traffic the timer fires about once per timeout period, instead of one
 * `setTimeout` + `clearTimeout` pair per request.
 *
 * The timer is unref'd: an operation in flight keeps the process alive through its Redis connection, not through
 * its deadline.
 */
export class DeadlineQueue<T extends Expirable = Expirable> {
  private readonly waiting = new Set<T>();
  private timer?: NodeJS.Timeout;

  /** @param timeoutMs how long each operation may wait */
  constructor(readonly timeoutMs: number) {}

  /** Number of operations waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Starts the clock of `operation`. */
  add(operation: T): void {
    operation.deadline = performance.now() + this.timeoutMs;
    this.waiting.add(operation);
    this.timer ??= this.arm(this.timeoutMs);
  }

  /** Stops the clock of `operation` (it settled): its `expire` will not be called. */
  delete(operation: T): void {
    this.waiting.delete(operation);
  }

  /** Restarts the clock of a waiting `operation` (a reply came and more may follow). */
  restart(operation: T): void {
    // Re-inserted at the end, which keeps the Set in deadline order.
    if (!this.waiting.delete(operation)) return;
    this.add(operation);
  }

  /** Removes and returns every waiting operation (none expires), and stops the timer. */
  takeAll(): T[] {
    const all = [...this.waiting];
    this.waiting.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    return all;
  }

  private arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.expireDue(), Math.max(1, Math.ceil(ms)));
    timer.unref();
    return timer;
  }

  private expireDue(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const operation of this.waiting) {
      if (operation.deadline > now) {
        // An `expire` callback may have started a new operation, and with it the timer.
        this.timer ??= this.arm(operation.deadline - now);
        return;
      }
      this.waiting.delete(operation);
      operation.expire();
    }
  }
}
