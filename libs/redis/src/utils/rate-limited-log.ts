import type { LoggerService } from '@nestjs/common';

/** Builds the logged line from the number of lines suppressed since the last one was logged. */
export type RateLimitedMessage = string | ((suppressed: number) => string);

interface Window {
  lastAt: number;
  suppressed: number;
}

/**
 * Logs a warning at most once per `intervalMs` (per `key`), then says how many were suppressed: a flood of malformed
 * messages, a failing handler or an unreachable Redis must not flood the logs. The library's one rate-limited
 * logger: the transport, the locks and the cache all use it.
 *
 * @example
 * ```ts
 * const junk = new RateLimitedLog(logger);
 * junk.warn(`Dropped a malformed entry of ${stream}.`); // at most one line per 5 s, then "(12 similar … suppressed)"
 * failures.warn((n) => CACHE_FAIL_OPEN(name, reason, n), name); // own wording for the count, one window per name
 * ```
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private suppressedTotal = 0;

  /**
   * @param logger where lines go (a Nest `Logger` or any `LoggerService`)
   * @param intervalMs shortest gap between two lines of one key
   * @default intervalMs 5000
   */
  constructor(
    private readonly logger: Pick<LoggerService, 'warn'>,
    private readonly intervalMs = 5_000,
  ) {}

  /** Lines suppressed since this log was created (for tests and metrics). */
  get suppressed(): number {
    return this.suppressedTotal;
  }

  /**
   * Logs `message` unless a line of the same `key` was logged within `intervalMs`. A string message gets
   * ` (N similar message(s) suppressed)` appended when lines were suppressed; a function gets N and words it.
   *
   * @returns whether the line was logged
   */
  warn(message: RateLimitedMessage, key = ''): boolean {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window) {
      // Bounded: keys are names the library chooses (cache names, streams), but never let them grow without end.
      if (this.windows.size >= 1_000) this.windows.clear();
      window = { lastAt: -Infinity, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (now - window.lastAt < this.intervalMs) {
      window.suppressed++;
      this.suppressedTotal++;
      return false;
    }
    const suppressed = window.suppressed;
    window.lastAt = now;
    window.suppressed = 0;
    this.logger.warn?.(
      typeof message === 'function'
        ? message(suppressed)
        : message + (suppressed > 0 ? ` (${suppressed} similar message(s) suppressed)` : ''),
    );
    return true;
  }
}
