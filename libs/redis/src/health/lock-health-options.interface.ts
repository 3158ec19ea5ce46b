/** Options of {@link LockHealthIndicator.isHealthy}. */
export interface LockHealthCheckOptions {
  /**
   * How long each node's PING may take (nodes are probed in parallel, so this bounds the whole check). A node that
   * does not answer in time counts as down.
   * @default 1000
   */
  timeout?: number;
}
