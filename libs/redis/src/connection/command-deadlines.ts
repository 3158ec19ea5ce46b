/**
 * The library's one batched-deadline queue: timeouts for many operations behind one timer instead of a
 * `setTimeout` / `clearTimeout` pair each. Two front doors share it: {@link CommandDeadlines} for ioredis commands
 * (the cache's reads, the locks' scripts) and {@link DeadlineQueue} for the transport client's sends and emits.
 */

/** How the queue tells a waiting entry from a settled one, and what it does with one that is late. */
interface DeadlinePolicy<T> {
  /** Whether `item`, tracked with `deadline`, still waits (false once it settled or was tracked again). */
  waiting(item: T, deadline: number): boolean;
  expire(item: T, timeoutMs: number): void;
}

/**
 * Entries in the order they were tracked, with their deadline and timeout in parallel arrays (nothing is added to
 * the items themselves). Settled entries are dropped from the head whenever a new one is tracked (replies mostly come
 * in order), and the rest when the timer fires. One unref'd timer is armed at the earliest deadline known, at most
 * `tickMs` late: with equal timeouts it fires about once per timeout period, and an entry fails between its deadline
 * and `tickMs` after it.
 */
class Deadlines<T> {
  private items: T[] = [];
  private deadlines: number[] = [];
  private timeouts: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** A late timer's check, put off until the I/O that waited behind the stall has run. */
  private recheck: NodeJS.Immediate | undefined;

  constructor(
    private readonly policy: DeadlinePolicy<T>,
    private readonly tickMs: number,
  ) {}

  /** Starts the clock of `item`; returns its deadline (`performance.now()` based). */
  track(item: T, timeoutMs: number): number {
    this.dropSettled();
    const now = performance.now();
    const deadline = now + timeoutMs;
    this.items.push(item);
    this.deadlines.push(deadline);
    this.timeouts.push(timeoutMs);
    this.arm(deadline, now);
    return deadline;
  }

  /** Number of entries still waiting. */
  get size(): number {
    let count = 0;
    for (let i = this.head; i < this.items.length; i++)
      if (this.policy.waiting(this.items[i], this.deadlines[i])) count++;
    return count;
  }

  /** Removes and returns the waiting items (none expires), and stops the timer. */
  drain(): T[] {
    const waiting: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      if (this.policy.waiting(this.items[i], this.deadlines[i])) waiting.push(this.items[i]);
    }
    this.clear();
    return waiting;
  }

  /** Expires every waiting entry now (shutdown). */
  expireAll(): void {
    const { items, deadlines, timeouts, head } = this;
    this.clear();
    for (let i = head; i < items.length; i++) {
      if (this.policy.waiting(items[i], deadlines[i])) this.policy.expire(items[i], timeouts[i]);
    }
  }

  /** Stops the timer and forgets every entry. */
  clear(): void {
    clearTimeout(this.timer);
    clearImmediate(this.recheck);
    this.recheck = undefined;
    this.timer = undefined;
    this.timerAt = Infinity;
    this.items = [];
    this.deadlines = [];
    this.timeouts = [];
    this.head = 0;
  }

  /** Makes sure the timer fires no later than `tickMs` after `at`. */
  private arm(at: number, now: number): void {
    if (this.recheck !== undefined) return; // the recheck re-arms for whatever is still waiting
    if (this.timer !== undefined && this.timerAt <= at + this.tickMs) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(at - now)));
    this.timer.unref();
  }

  /**
   * A deadline measures Redis, not this process: when the timer runs more than a tick late, the event loop was
   * stalled (a long synchronous task, a GC pause, a loaded machine), and replies that arrived meanwhile still sit
   * unread in the sockets. Timers run before I/O in each loop turn, so the check is put off to `setImmediate`, which
   * runs after the pending I/O has been read; a command answered during the stall then settles instead of failing.
   */
  private fire(): void {
    const stalledFor = performance.now() - this.timerAt;
    this.timer = undefined;
    this.timerAt = Infinity;
    if (stalledFor > this.tickMs) {
      // Not unref'd: an unref'd immediate lets the loop block in its poll phase until some other event, which put
      // the check off by whole timer periods when nothing else was pending (an emit to a frozen Redis failed after
      // 1.1 s instead of its 400 ms emitTimeout). It runs within the same loop turn, so it holds nothing open.
      this.recheck = setImmediate(() => {
        this.recheck = undefined;
        this.expireDue();
      });
      return;
    }
    this.expireDue();
  }

  /** Expires the entries past their deadline and keeps the others (an `expire` may track new ones meanwhile). */
  private expireDue(): void {
    const { items, deadlines, timeouts, head } = this;
    this.items = [];
    this.deadlines = [];
    this.timeouts = [];
    this.head = 0;
    const now = performance.now();
    let next = Infinity;
    for (let i = head; i < items.length; i++) {
      const item = items[i];
      const deadline = deadlines[i];
      if (!this.policy.waiting(item, deadline)) continue;
      if (deadline <= now) {
        this.policy.expire(item, timeouts[i]);
        continue;
      }
      this.items.push(item);
      this.deadlines.push(deadline);
      this.timeouts.push(timeouts[i]);
      if (deadline < next) next = deadline;
    }
    if (next !== Infinity) this.arm(Math.max(next, now + this.tickMs), now);
  }

  private dropSettled(): void {
    const { items, deadlines } = this;
    while (this.head < items.length && !this.policy.waiting(items[this.head], deadlines[this.head])) this.head++;
    // Keeps the arrays from growing between timer runs: cut the consumed head once it is most of them.
    if (this.head > 1_024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.deadlines = deadlines.slice(this.head);
      this.timeouts = this.timeouts.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * A command being timed: `reject` is called if it has not settled by its deadline. Both members exist on ioredis'
 * `Command`, so a command is tracked as it is (adding a property to it would make ioredis' hot code polymorphic).
 */
export interface PendingCommand {
  isResolved: boolean;
  reject(error: Error): void;
}

export interface CommandDeadlinesOptions {
  /** Timer granularity: a command fails between its timeout and `tickMs` later. */
  tickMs: number;
  /** The error a command still pending at its deadline is failed with. */
  timeoutError: (timeoutMs: number) => Error;
}

/**
 * Timeouts for many Redis commands (the cache's reads, the locks' scripts), each with its own timeout: the ioredis
 * command is rejected in place, so its caller settles; the command itself may still reach Redis later. The hot path
 * costs three array pushes instead of a `setTimeout` / `clearTimeout` pair, a wrapper promise and their closures.
 */
export class CommandDeadlines {
  private readonly deadlines: Deadlines<PendingCommand>;

  constructor(options: CommandDeadlinesOptions) {
    this.deadlines = new Deadlines<PendingCommand>(
      {
        waiting: (command) => !command.isResolved,
        expire: (command, timeoutMs) => command.reject(options.timeoutError(timeoutMs)),
      },
      options.tickMs,
    );
  }

  track(command: PendingCommand, timeoutMs: number): void {
    this.deadlines.track(command, timeoutMs);
  }

  /** Fails everything still pending (shutdown). */
  failAll(): void {
    this.deadlines.expireAll();
  }

  /** Stops the timer and forgets the commands still pending: their connection settles them (closed with it). */
  clear(): void {
    this.deadlines.clear();
  }
}

/** An operation with a deadline, as {@link DeadlineQueue} tracks it. */
export interface Expirable {
  /** Set by the queue: the `performance.now()` after which the operation expires (`NaN` once it left the queue). */
  deadline: number;
  /** Called once when the deadline passes before the operation left the queue. */
  expire(): void;
}

const EXPIRABLE: DeadlinePolicy<Expirable> = {
  // A restarted operation was tracked again with a later deadline: its older entries no longer count.
  waiting: (operation, deadline) => operation.deadline === deadline,
  expire(operation) {
    operation.deadline = NaN;
    operation.expire();
  },
};

/**
 * Deadlines of many operations that all share one timeout (a client's `sendTimeout`, its `emitTimeout`). The timer
 * is unref'd: an operation in flight keeps the process alive through its Redis connection, not its deadline.
 */
export class DeadlineQueue<T extends Expirable = Expirable> {
  private readonly deadlines = new Deadlines<Expirable>(EXPIRABLE, 1);

  /** @param timeoutMs how long each operation may wait */
  constructor(readonly timeoutMs: number) {}

  /** Number of operations waiting. */
  get size(): number {
    return this.deadlines.size;
  }

  /** Starts the clock of `operation`. */
  add(operation: T): void {
    operation.deadline = this.deadlines.track(operation, this.timeoutMs);
  }

  /** Stops the clock of `operation` (it settled): its `expire` will not be called. */
  delete(operation: T): void {
    operation.deadline = NaN;
  }

  /** Restarts the clock of a waiting `operation` (a reply came and more may follow). */
  restart(operation: T): void {
    if (!Number.isNaN(operation.deadline)) this.add(operation);
  }

  /** Removes and returns every waiting operation (none expires), and stops the timer. */
  takeAll(): T[] {
    const waiting = this.deadlines.drain() as T[];
    for (const operation of waiting) operation.deadline = NaN;
    return waiting;
  }
}
