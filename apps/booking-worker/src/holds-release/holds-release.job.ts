import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { CacheService } from '@app/redis';
import { ClusterTicks, OncePerCluster } from '@app/redis/schedule';
import { venueCacheTag } from '../../../booking-contracts/src/index.js';
import { WORKER_CONFIG } from '../config/worker-config.constants.js';
import type { WorkerConfig } from '../config/worker-config.interface.js';
import { ExpiringHolds } from './expiring-holds.js';
import { HoldsReleaseRepository } from './holds-release.repository.js';
import { HoldsReleaseRuns } from './holds-release.runs.js';
import { HOLDS_RELEASE_REPOSITORY } from './holds-release.constants.js';

/** The job's name in Redis and in `@nestjs/schedule`'s registry. */
export const HOLDS_RELEASE_JOB = 'release-expired-holds';
/**
 * Every tenth tick is a full pass: the database is searched for expired holds whatever Redis says, and seat counters
 * are reconciled (which locks every recent slot row for a moment).
 */
export const FULL_PASS_EVERY_MS = 10_000;

/**
 * Every second, on exactly one booking-worker replica (`@OncePerCluster`: the replicas race for the tick in Redis,
 * the others skip it): releases the holds past their expiry (looking in the database when booking-api's
 * `holds:expiring` sorted set has one due, and every tenth tick regardless), every tenth tick reconciles the seat
 * counters of recent slots with their rows, evicts the availability of the venues it changed, and records the run
 * (tick, replica, counts).
 * Releasing is exactly-once per hold by construction too: the UPDATE only takes holds still `held`.
 */
@Injectable()
export class HoldsReleaseJob {
  private readonly logger = new Logger(HoldsReleaseJob.name);
  private readonly workerId: string;

  constructor(
    @Inject(HOLDS_RELEASE_REPOSITORY) private readonly repository: HoldsReleaseRepository | null,
    private readonly runs: HoldsReleaseRuns,
    private readonly expiring: ExpiringHolds,
    private readonly ticks: ClusterTicks,
    private readonly cache: CacheService,
    @Inject(WORKER_CONFIG) config: WorkerConfig,
  ) {
    this.workerId = config.workerId;
  }

  @OncePerCluster()
  @Cron(CronExpression.EVERY_SECOND, { name: HOLDS_RELEASE_JOB })
  async run(): Promise<void> {
    // No database configured: nothing to release (logged once at startup by the module).
    if (!this.repository) return;
    const tick = this.ticks.current();
    if (!tick) return;
    const run = { tick: tick.tick, workerId: this.workerId, fencingToken: tick.lock.fencingToken };
    try {
      const fullPass = tick.tick % FULL_PASS_EVERY_MS === 0;
      let released: Array<{ venueId: string }> = [];
      if (fullPass || (await this.expiring.anyDue(Date.now()))) {
        const pass = await this.repository.releaseExpired(this.workerId, tick.tick);
        released = pass.released;
        await this.expiring.forgetUpTo(pass.asOf);
      }
      const corrected = fullPass ? await this.repository.reconcile() : [];
      const venues = new Set([...released, ...corrected].map((change) => change.venueId));
      if (venues.size > 0) await this.cache.invalidateTags([...venues].map(venueCacheTag));
      if (released.length > 0 || corrected.length > 0) {
        this.logger.log(
          `Tick ${new Date(tick.tick).toISOString()}: released ${released.length} hold(s), ` +
            `corrected the counters of ${corrected.length} slot(s).`,
        );
      }
      await this.runs.record({
        ...run,
        released: released.length,
        corrected: corrected.length,
        finishedAt: Date.now(),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Hold release failed this tick: ${message}`);
      await this.runs
        .record({ ...run, released: 0, corrected: 0, error: message, finishedAt: Date.now() })
        .catch(() => undefined);
    }
  }
}
