import { RedisOptionsError } from '../errors/redis-options.error.js';
import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { isPlainObject, optionalDuration, optionalString, rejectUnknownKeys } from '../options/option-checks.js';
import { ONCE_PER_CLUSTER_METADATA } from './schedule.constants.js';
import type { OncePerClusterOptions } from './once-per-cluster-options.interface.js';

const OPTION_KEYS = ['name', 'period', 'maxClockSkew', 'ttl', 'maxHoldTime'];

/** Checks `@OncePerCluster` options when the class is defined, so a typo fails at startup. */
export function validateOncePerClusterOptions(options: OncePerClusterOptions, where: string): void {
  const path = `@OncePerCluster on ${where}`;
  if (!isPlainObject(options)) {
    throw new RedisOptionsError(`Invalid ${path}: expected an options object (or none).`, path);
  }
  rejectUnknownKeys(options, OPTION_KEYS, path);
  optionalString(options.name, `${path}.name`, { nonEmpty: true });
  optionalDuration(options.period, `${path}.period`, { min: 1 });
  optionalDuration(options.maxClockSkew, `${path}.maxClockSkew`, { min: 0, max: 3_600_000 });
  const ttl = optionalDuration(options.ttl, `${path}.ttl`, { min: 50 });
  const maxHoldTime = optionalDuration(options.maxHoldTime, `${path}.maxHoldTime`, { min: 50 });
  if (ttl !== undefined && maxHoldTime !== undefined && maxHoldTime < ttl) {
    throw new RedisOptionsError(`Invalid ${path}.maxHoldTime: expected at least ttl.`, `${path}.maxHoldTime`);
  }
}

const oncePerCluster = createMethodDecorator<OncePerClusterOptions>(
  ONCE_PER_CLUSTER_METADATA,
  '@OncePerCluster',
  validateOncePerClusterOptions,
);

/**
 * Runs a `@nestjs/schedule` job (`@Cron`, `@Interval`, `@Timeout`) on one replica per tick: every replica fires
 * it, the first to claim the tick in Redis runs it, the others skip it (they never queue behind it).
 *
 * - A tick is the job's scheduled fire time (`@Cron`, from the expression) or a `period`-long window of the epoch
 *   (`@Interval(ms)`, or `period`), never wall-clock "now": replicas whose clocks differ by up to `maxClockSkew`
 *   agree on it. Each tick is claimed once with a marker that outlives that skew.
 * - The run holds the job's lock (`LockService`, resource `schedule:<name>`): inside it, `lockService.current()`
 *   gives its `fencingToken` (increasing from tick to tick) and `signal` (aborts if the lock is lost). A tick that
 *   starts while the previous one still runs on another replica is skipped, so runs never overlap.
 * - Redis unreachable → the tick is skipped on this replica and a warning logged (fails closed).
 * - A replica that crashes mid-run loses that tick (at most once per tick); the next tick runs elsewhere.
 *
 * Works written above or below the schedule decorator. Needs `RedisScheduleModule` imported next to `RedisModule`
 * and `ScheduleModule.forRoot()`.
 *
 * @param options `name`, `period`, `maxClockSkew` (default 5 s), `ttl` and `maxHoldTime` of the job's lock
 * @example
 * ```ts
 * @Injectable()
 * export class HoldsReaper {
 *   @OncePerCluster()
 *   @Cron(CronExpression.EVERY_10_SECONDS, { name: 'release-expired-holds' })
 *   async releaseExpired(): Promise<void> {
 *     await this.holds.releaseExpired();
 *   }
 * }
 * ```
 */
export const OncePerCluster = (options: OncePerClusterOptions = {}): MethodDecorator => oncePerCluster(options);
