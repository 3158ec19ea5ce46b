/**
 * Options of {@link RedisTransportHealthIndicator.isHealthy}. The thresholds apply to each stream a streams-mode
 * server consumes (for its consumer group); each is off unless given.
 */
export interface RedisTransportHealthCheckOptions {
  /**
   * How long connecting a client that is not connected, or reading the streams' backlog, may take.
   * @default 1000
   */
  timeout?: number;
  /** Down when more entries than this are pending (delivered, not yet acknowledged) on a stream. */
  maxPending?: number;
  /**
   * Down when a dead-letter stream holds more entries than this. A total: anyone who can `XADD` junk to a consumed
   * stream raises it, and it stays raised until an operator trims the stream, so prefer the windowed
   * `maxRecentDeadLetters` / `warnRecentDeadLetters` for readiness.
   */
  maxDeadLetters?: number;
  /**
   * Down when more than this many entries were dead-lettered within `deadLetterWindow` on a stream: a rate, which
   * falls back by itself once the flood (or the bug) stops.
   */
  maxRecentDeadLetters?: number;
  /** `degraded` (still ready) when more than this many entries were dead-lettered within `deadLetterWindow`. */
  warnRecentDeadLetters?: number;
  /**
   * The window of `maxRecentDeadLetters` and `warnRecentDeadLetters`, in milliseconds. The indicator measures it by
   * how much each dead-letter stream's length grew between its own probes within the window (no extra Redis
   * command): the first probe of a process counts nothing, and a stream trimmed at its `deadLetterMaxLen` stops
   * growing, so this undercounts rather than overcounts.
   * @default 300000 (5 minutes)
   */
  deadLetterWindow?: number;
  /** Down when more entries than this wait to be delivered to the group (Redis 7+ lag). */
  maxLag?: number;
  /** `degraded` (still ready) when more entries than this wait to be delivered to the group. */
  warnLag?: number;
}
