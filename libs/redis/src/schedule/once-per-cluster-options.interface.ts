/** Options of `@OncePerCluster`. Durations are in milliseconds. */
export interface OncePerClusterOptions {
  /**
   * The job's name in Redis: replicas running the same job must agree on it.
   * @default the `name` given to `@Cron` / `@Interval` / `@Timeout`, else `<Class>.<method>`
   */
  name?: string;
  /**
   * Length of a tick: one run per `period`-long window of the epoch (`floor(now / period)`). Inferred from
   * `@Interval(ms)`; a `@Cron` job's ticks are its scheduled fire times (from the cron expression). Required with
   * `@Timeout` or without a `@nestjs/schedule` decorator.
   * @default inferred
   */
  period?: number;
  /**
   * Largest difference between the clocks of two replicas that is tolerated. Each tick is claimed in Redis with a
   * marker that lives `2 × maxClockSkew + 2 s`, so a replica whose clock lags fires its copy of the tick while the
   * marker is still there and skips it. Keep NTP running: beyond this bound a lagging replica may run a tick again.
   * @default 5000
   */
  maxClockSkew?: number;
  /**
   * Lifetime of the job's lock while a tick runs (renewed by the watchdog, like any lock): bounds how long a crashed
   * replica keeps the next ticks from starting.
   * @default the module's `lock.ttl`
   */
  ttl?: number;
  /**
   * Upper bound on one run: the lock's watchdog stops renewing after it, and the lock's `signal` aborts.
   * @default the module's `lock.maxHoldTime`
   */
  maxHoldTime?: number;
}
