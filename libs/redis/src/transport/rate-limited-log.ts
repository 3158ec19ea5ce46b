import type { LoggerService } from '@nestjs/common';

/**
 * Logs a warning at most once per `intervalMs`, then says how many were suppressed: a flood of malformed messages
 * or a failing handler must not flood the logs.
 */
export class RateLimitedLog {
  private last = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: LoggerService,
    private readonly intervalMs = 5_000,
  ) {}

  warn(message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const note = this.suppressed > 0 ? ` (${this.suppressed} similar message(s) suppressed)` : '';
    this.last = now;
    this.suppressed = 0;
    this.logger.warn?.(message + note);
  }
}
