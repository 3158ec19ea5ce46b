/** Options of {@link RedisHealthIndicator.isHealthy}. All durations in milliseconds. */
export interface RedisHealthCheckOptions {
  /**
   * Which connection to probe (a name from `connections`).
   * @default 'default'
   */
  connection?: string;
  /**
   * The whole probe must answer within this time, or the indicator is down naming the timeout.
   * @default 1000
   */
  timeout?: number;
  /** Down when the PING round trip takes longer than this. Off by default. */
  maxLatencyMs?: number;
  /**
   * Down when `used_memory / maxmemory` exceeds this ratio (0–1). Ignored while `maxmemory` is 0 (unlimited).
   * Off by default.
   */
  maxMemoryRatio?: number;
}
