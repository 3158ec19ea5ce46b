/**
 * A command being timed: `reject` is called if it has not settled by its deadline. Both members exist on ioredis'
 * `Command`, so a command is tracked as it is (adding a property to it would make ioredis' hot code polymorphic).
 */
export interface PendingCommand {
  isResolved: boolean;
  reject(error: Error): void;
}

/**
 * Timeouts for many short commands without one timer each. Commands are queued in the order they are sent;
 * settled ones are dropped from the head whenever a new one is queued (Redis answers a connection in order, so
 * the head is usually the oldest one still waiting), and a single unref'd interval, every `timeoutMs / 4`, fails
 * the commands at the head that are older than `timeoutMs`. A command therefore fails between `timeoutMs` and
 * `1.25 × timeoutMs` after it was sent; the hot path costs two array pushes instead of a `setTimeout` /
 * `clearTimeout` pair, and only commands still in flight are retained. The interval stops when nothing is queued.
 */
export class CommandDeadlines {
  private readonly tickMs: number;
  private commands: PendingCommand[] = [];
  private sentAt: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly timeoutError: () => Error,
  ) {
    this.tickMs = Math.max(1, Math.ceil(timeoutMs / 4));
  }

  track(command: PendingCommand): void {
    this.dropSettled();
    this.commands.push(command);
    this.sentAt.push(Date.now());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  /** Fails everything still pending (shutdown). */
  failAll(): void {
    for (let i = this.head; i < this.commands.length; i++) {
      if (!this.commands[i].isResolved) this.commands[i].reject(this.timeoutError());
    }
    this.reset();
  }

  private tick(): void {
    const now = Date.now();
    while (this.head < this.commands.length) {
      const command = this.commands[this.head];
      if (!command.isResolved) {
        if (now - this.sentAt[this.head] < this.timeoutMs) break;
        command.reject(this.timeoutError());
      }
      this.head++;
    }
    this.compact();
    if (this.head === this.commands.length) this.reset();
  }

  private dropSettled(): void {
    while (this.head < this.commands.length && this.commands[this.head].isResolved) this.head++;
    this.compact();
  }

  /** Keeps the arrays from growing: cut the consumed head once it is most of the queue. */
  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.commands.length) {
      this.commands = this.commands.slice(this.head);
      this.sentAt = this.sentAt.slice(this.head);
      this.head = 0;
    }
  }

  private reset(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.commands = [];
    this.sentAt = [];
    this.head = 0;
  }
}
