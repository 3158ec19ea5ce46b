import { LockTimeoutError } from './with-timeout.js';

/** A command that can be failed in place. Both members exist on ioredis' `Command`, which is tracked as it is. */
export interface PendingCommand {
  isResolved: boolean;
  reject(error: Error): void;
}

/** How often pending commands are checked: a command fails between its timeout and this much later. */
const TICK_MS = 20;

/**
 * Timeouts for the lock's Redis commands without one timer each. A command is kept with its deadline; one unref'd
 * interval, running only while commands are pending, fails those past their deadline with `LockTimeoutError`
 * (the ioredis command is rejected in place, so its caller settles; the command itself may still reach Redis
 * later, which is why every lock command is safe to run late). The hot path costs three array pushes instead of a
 * timer, a wrapper promise and their closures.
 */
export class CommandDeadlines {
  private commands: PendingCommand[] = [];
  private deadlines: number[] = [];
  private timeouts: number[] = [];
  private timer?: NodeJS.Timeout;

  track(command: PendingCommand, timeoutMs: number): void {
    this.commands.push(command);
    this.deadlines.push(Date.now() + timeoutMs);
    this.timeouts.push(timeoutMs);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  /** Stops the interval; commands still pending are left to their connection (closed with it). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.commands = [];
    this.deadlines = [];
    this.timeouts = [];
  }

  private tick(): void {
    const now = Date.now();
    const { commands, deadlines, timeouts } = this;
    let kept = 0;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i];
      if (command.isResolved) continue;
      if (now >= deadlines[i]) {
        command.reject(new LockTimeoutError(timeouts[i]));
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
    if (kept === 0) this.close();
  }
}
