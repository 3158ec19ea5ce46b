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
  /** Down when a dead-letter stream holds more entries than this. */
  maxDeadLetters?: number;
  /** Down when more entries than this wait to be delivered to the group (Redis 7+ lag). */
  maxLag?: number;
  /** `degraded` (still ready) when more entries than this wait to be delivered to the group. */
  warnLag?: number;
}
