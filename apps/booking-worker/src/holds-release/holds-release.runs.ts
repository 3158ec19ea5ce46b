import { Injectable } from '@nestjs/common';
import { InjectRedis, type RedisClient, RedisKeyspace } from '@app/redis';

/** One run of the hold-release job, as recorded. */
export interface HoldsReleaseRun {
  /** The tick (epoch ms of its scheduled fire time) the run was for. */
  tick: number;
  workerId: string;
  /** The job lock's fencing token: increases from run to run. */
  fencingToken: number;
  released: number;
  /** Slots whose seat counters were corrected. */
  corrected: number;
  /** Set when the run failed (database unreachable, schema not migrated yet). */
  error?: string;
  /** When the run ended (epoch ms): a tick due before then was skipped by design, the job's lock still held. */
  finishedAt?: number;
}

/** What a run log says about the ticks between its first and last run. */
export interface TickAccount {
  /** Ticks from the first run's to the last run's, both included. */
  span: number;
  /** Ticks run more than once (must be none). */
  twice: number[];
  /** Ticks no run recorded while an earlier run still held the job's lock (skipped, by design, not queued). */
  skippedBusy: number[];
  /** Ticks no run recorded otherwise: no replica fired in time (a starved machine), or Redis did not answer. */
  skippedOther: number[];
}

/**
 * Accounts for every tick between the first and the last recorded run. `@OncePerCluster` runs each tick at most
 * once; it skips a tick while an earlier one still runs and when no replica could claim it in time, so a tick may be
 * missing from the log without anything being wrong: those are counted apart, never hidden.
 */
export function accountTicks(runs: readonly HoldsReleaseRun[], periodMs = 1_000): TickAccount {
  const seen = new Map<number, number>();
  for (const run of runs) seen.set(run.tick, (seen.get(run.tick) ?? 0) + 1);
  const ticks = [...seen.keys()].sort((a, b) => a - b);
  const account: TickAccount = { span: 0, twice: [], skippedBusy: [], skippedOther: [] };
  if (ticks.length === 0) return account;
  account.twice = ticks.filter((tick) => seen.get(tick)! > 1);
  const first = ticks[0]!;
  const last = ticks.at(-1)!;
  account.span = (last - first) / periodMs + 1;
  for (let tick = first; tick <= last; tick += periodMs) {
    if (seen.has(tick)) continue;
    const busy = runs.some((run) => run.tick < tick && (run.finishedAt ?? run.tick) > tick);
    (busy ? account.skippedBusy : account.skippedOther).push(tick);
  }
  return account;
}

/** Runs kept: at one run a second, about 2 hours and 45 minutes. */
const MAX_RUNS = 10_000;

/**
 * The log of the hold-release job's runs, one entry per run appended by the replica that ran it (a Redis list
 * shared by every replica), so an operator, the demo runner or a test can check each tick ran on exactly one
 * replica: a tick run twice would appear twice.
 */
@Injectable()
export class HoldsReleaseRuns {
  private readonly key: string;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    keyspace: RedisKeyspace,
  ) {
    this.key = keyspace.key('{booking-worker}', 'holds-release', 'runs');
  }

  async record(run: HoldsReleaseRun): Promise<void> {
    await this.redis.multi().rpush(this.key, JSON.stringify(run)).ltrim(this.key, -MAX_RUNS, -1).exec();
  }

  /** The recorded runs, oldest first. */
  async list(): Promise<HoldsReleaseRun[]> {
    const entries = await this.redis.lrange(this.key, 0, -1);
    return entries.map((entry) => JSON.parse(entry) as HoldsReleaseRun);
  }
}
