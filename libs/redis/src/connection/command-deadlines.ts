/**
 * A command being timed: `reject` is called if it has not settled by its deadline. Both members exist on ioredis'
 * `Command`, so a command is tracked as it is (adding a property to it would make ioredis' hot code polymorphic).
 */
export interface PendingCommand {
  isResolved: boolean;
  reject(error: Error): void;
}

export interface CommandDeadlinesOptions {
  /** How often pending commands are checked: a command fails between its timeout and `tickMs` later. */
  tickMs: number;
  /** The error a command still pending at its deadline is failed with. */
  timeoutError: (timeoutMs: number) => Error;
}

/**
 * Timeouts for many Redis commands without one timer each (the cache's reads, the locks' scripts). Commands are
 * kept in the order they are sent, with their deadline; settled ones are dropped from the head whenever a new one
 * is tracked (Redis answers a connection in order, so the head is usually the oldest one still waiting), so mostly
 * commands still in flight are retained. One unref'd interval, running only while commands are pending, fails
 * those past their deadline: the ioredis command is rejected in place, so its caller settles; the command itself
 * may still reach Redis later. The hot path costs three array pushes instead of a `setTimeout` / `clearTimeout`
 * pair, a wrapper promise and their closures.
 */
export class CommandDeadlines {
  private commands: PendingCommand[] = [];
  private deadlines: number[] = [];
  private timeouts: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CommandDeadlinesOptions) {}

  track(command: PendingCommand, timeoutMs: number): void {
    this.dropSettled();
    this.commands.push(command);
    this.deadlines.push(Date.now() + timeoutMs);
    this.timeouts.push(timeoutMs);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.options.tickMs);
      this.timer.unref();
    }
  }

  /** Fails everything still pending (shutdown). */
  failAll(): void {
    for (let i = this.head; i < this.commands.length; i++) {
      if (!this.commands[i].isResolved) this.commands[i].reject(this.options.timeoutError(this.timeouts[i]));
    }
    this.clear();
  }

  /** Stops the interval and forgets the commands still pending: their connection settles them (closed with it). */
  clear(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.commands = [];
    this.deadlines = [];
    this.timeouts = [];
    this.head = 0;
  }

  /** Fails the commands past their deadline and compacts the rest to the front. */
  private tick(): void {
    const now = Date.now();
    const { commands, deadlines, timeouts } = this;
    let kept = 0;
    for (let i = this.head; i < commands.length; i++) {
      const command = commands[i];
      if (command.isResolved) continue;
      if (now >= deadlines[i]) {
        command.reject(this.options.timeoutError(timeouts[i]));
        continue;
      }
      commands[kept] = command;
      deadlines[kept] = deadlines[i];
      timeouts[kept] = timeouts[i];
      kept++;
    }
    commands.length = kept;
    deadlines.length = kept;
    timeouts.length = kept;
    this.head = 0;
    if (kept === 0) this.clear();
  }

  private dropSettled(): void {
    while (this.head < this.commands.length && this.commands[this.head].isResolved) this.head++;
    // Keeps the arrays from growing between ticks: cut the consumed head once it is most of them.
    if (this.head > 1_024 && this.head * 2 > this.commands.length) {
      this.commands = this.commands.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.timeouts = this.timeouts.slice(this.head);
      this.head = 0;
    }
  }
}
