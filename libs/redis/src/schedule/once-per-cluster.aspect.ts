import { Inject, Injectable, Logger } from '@nestjs/common';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import { LockNotAcquiredError } from '../errors/lock-not-acquired.error.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { LockService } from '../lock/lock.service.js';
import type { LockOptions } from '../lock/lock-options.interface.js';
import { Aspect } from '../method-decorators/aspect.decorator.js';
import type { AnyMethod, MethodAspect, MethodWrapContext } from '../method-decorators/method-aspect.interface.js';
import { DEFAULT_REDIS_CONNECTION } from '../redis.constants.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import { settleWithin } from '../utils/settle-within.js';
import { ClusterTicks } from './cluster-ticks.js';
import type { OncePerClusterOptions } from './once-per-cluster-options.interface.js';
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  ONCE_PER_CLUSTER_METADATA,
  SCHEDULE_METADATA,
  SCHEDULER_TYPES,
} from './schedule.constants.js';
import { NO_TICK_SOURCE, TICK_SKIPPED_BUSY, TICK_SKIPPED_UNREACHABLE } from './schedule.messages.js';
import { CRON_TIME, type CronTimeConstructor } from './cron.loader.js';
import { cronTicks, periodTicks, type TickOf } from './schedule-tick.js';
import { errorText } from '../utils/error-text.js';

/** How long a claim marker outlives the largest tolerated skew: covers a replica's own firing delay. */
const CLAIM_MARGIN_MS = 2_000;
/**
 * How long a replica waits for Redis to claim a tick. Past it the tick is skipped here (a claim answered later only
 * marks the tick as taken, so the tick is lost rather than run late or twice).
 */
const CLAIM_TIMEOUT_MS = 2_000;

interface CronMetadata {
  cronTime?: unknown;
  timeZone?: string;
  utcOffset?: number;
}

/**
 * The behaviour of `@OncePerCluster`: per call, finds the tick from the replica's clock and the job's schedule,
 * claims it in Redis (`SET NX PX`, one marker per tick that outlives clock skew), then runs the method under the
 * job's lock taken without waiting. A tick already claimed, or a job lock held by an earlier tick's run, is skipped.
 */
@Aspect(ONCE_PER_CLUSTER_METADATA)
@Injectable()
export class OncePerClusterAspect implements MethodAspect<OncePerClusterOptions> {
  private readonly logger = new Logger('OncePerCluster');
  private readonly unreachableLog = new RateLimitedLog(this.logger);

  constructor(
    private readonly locks: LockService,
    private readonly registry: RedisConnectionsRegistry,
    private readonly keyspace: RedisKeyspace,
    private readonly ticks: ClusterTicks,
    @Inject(CRON_TIME) private readonly cronTime: CronTimeConstructor,
  ) {}

  wrap({ instance, target, methodName, method, options }: MethodWrapContext<OncePerClusterOptions>): AnyMethod {
    const where = `${target.name}.${methodName}()`;
    const scheduled = (target.prototype as Record<string, unknown>)[methodName] as object;
    const job = options.name ?? this.scheduleName(scheduled) ?? `${target.name}.${methodName}`;
    const tickOf = this.tickSource(scheduled, options, where);
    const claimTtl = 2 * (options.maxClockSkew ?? DEFAULT_MAX_CLOCK_SKEW_MS) + CLAIM_MARGIN_MS;
    const lockOptions: LockOptions = { waitTimeout: 0 };
    if (options.ttl !== undefined) lockOptions.ttl = options.ttl;
    if (options.maxHoldTime !== undefined) lockOptions.maxHoldTime = options.maxHoldTime;
    const resource = `schedule:${job}`;
    const claimPrefix = this.keyspace.key('schedule', `{${job}}`, 'tick');
    const claimTimedOut = new Error(`no answer within ${CLAIM_TIMEOUT_MS} ms`);
    const { locks, registry, ticks, logger, unreachableLog } = this;

    return async function oncePerCluster(this: unknown, ...args: unknown[]): Promise<unknown> {
      const tick = tickOf(Date.now());
      let claimed: boolean;
      try {
        const client = await registry.connect(DEFAULT_REDIS_CONNECTION);
        const claim = client.set(`${claimPrefix}:${tick}`, '1', 'PX', claimTtl, 'NX');
        claimed = (await settleWithin(claim, CLAIM_TIMEOUT_MS, () => claimTimedOut)) === 'OK';
      } catch (error) {
        unreachableLog.warn(TICK_SKIPPED_UNREACHABLE(job, tick, errorText(error)));
        return undefined;
      }
      if (!claimed) return undefined;
      try {
        return await locks.using(resource, lockOptions, (_signal, lock) =>
          ticks.run({ job, tick, lock }, () => method.apply(instance, args)),
        );
      } catch (error) {
        if (!(error instanceof LockNotAcquiredError)) throw error;
        if (error.reason === 'contention') logger.warn(TICK_SKIPPED_BUSY(job, tick));
        else unreachableLog.warn(TICK_SKIPPED_UNREACHABLE(job, tick, error.reason));
        return undefined;
      }
    };
  }

  private scheduleName(scheduled: object): string | undefined {
    const name = Reflect.getMetadata(SCHEDULE_METADATA.name, scheduled) as unknown;
    return typeof name === 'string' && name.length > 0 ? name : undefined;
  }

  private tickSource(scheduled: object, options: OncePerClusterOptions, where: string): TickOf {
    if (options.period !== undefined) return periodTicks(options.period);
    const type = Reflect.getMetadata(SCHEDULE_METADATA.type, scheduled) as unknown;
    if (type === SCHEDULER_TYPES.interval) {
      const { timeout } = (Reflect.getMetadata(SCHEDULE_METADATA.interval, scheduled) ?? {}) as { timeout?: unknown };
      if (typeof timeout === 'number' && timeout > 0) return periodTicks(timeout);
    }
    if (type === SCHEDULER_TYPES.cron) {
      const cron = (Reflect.getMetadata(SCHEDULE_METADATA.cron, scheduled) ?? {}) as CronMetadata;
      if (typeof cron.cronTime === 'string')
        return cronTicks(this.cronTime, cron.cronTime, cron.timeZone, cron.utcOffset);
      // A one-shot cron (a Date or Luxon DateTime): its only tick is that instant.
      const at = cron.cronTime instanceof Date ? cron.cronTime.getTime() : Number(cron.cronTime?.valueOf());
      if (Number.isFinite(at)) return () => at;
    }
    throw new RedisOptionsError(NO_TICK_SOURCE(where), `@OncePerCluster on ${where}.period`);
  }
}
