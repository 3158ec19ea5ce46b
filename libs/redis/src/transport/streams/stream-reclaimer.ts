import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { errorText } from '../../utils/error-text.js';
import type { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { sendStreamCommand } from './commands/stream-command.js';
import type { StreamEntry } from './commands/stream-reply.js';
import { XAUTOCLAIM } from './commands/xautoclaim.command.js';
import { XCLAIM_JUSTID } from './commands/xclaim.command.js';
import { XPENDING_RANGE } from './commands/xpending.command.js';

/** What the reclaimer needs from its consumer. */
export interface ReclaimingConsumer {
  readonly key: string;
  readonly group: string;
  readonly consumer: string;
  /** Entries being handled by this consumer right now. */
  readonly inFlight: ReadonlySet<string>;
  /** Free handler slots (`concurrency − in flight`). */
  readonly free: number;
  readonly running: boolean;
  /** Starts handling a claimed entry, with how many times Redis delivered it. */
  dispatch(entry: StreamEntry, deliveryCount: number): void;
}

/**
 * The at-least-once side of a consumer: keeps the entries it is handling fresh (`XCLAIM … JUSTID`, so nobody
 * reclaims a slow handler's entry while its process lives), and takes over entries other consumers of the group left
 * pending for `claimIdle` (`XAUTOCLAIM`, crashed consumers or lost replies), with their delivery counts (`XPENDING`).
 */
export class StreamReclaimer {
  private cursor = '0-0';
  private claiming = false;

  constructor(
    private readonly client: RedisClient,
    private readonly owner: ReclaimingConsumer,
    private readonly claimIdleMs: number,
    private readonly log: LoggerService,
    private readonly failures: RateLimitedLog,
  ) {}

  /** Resets the idle time of the entries being handled, so no other consumer reclaims them. */
  async refreshInFlight(): Promise<void> {
    const { inFlight, key, group, consumer } = this.owner;
    if (inFlight.size === 0 || this.client.status !== 'ready') return;
    await sendStreamCommand(this.client, XCLAIM_JUSTID, { key, group, consumer, ids: [...inFlight] }).catch(
      () => undefined,
    );
  }

  /** Takes over entries another consumer (a crashed one, or a lost reply) left pending for `claimIdle`. */
  async reclaim(): Promise<void> {
    const owner = this.owner;
    const free = owner.free;
    if (!owner.running || this.claiming || free <= 0 || this.client.status !== 'ready') return;
    this.claiming = true;
    try {
      const { key, group, consumer } = owner;
      const reply = await sendStreamCommand(this.client, XAUTOCLAIM, {
        key,
        group,
        consumer,
        minIdleMs: this.claimIdleMs,
        cursor: this.cursor,
        count: free,
      });
      this.cursor = reply.next;
      if (reply.deleted.length > 0) {
        this.log.warn?.(
          `${reply.deleted.length} pending entr(y/ies) of ${key} were trimmed before being handled (raise streams.maxLen).`,
        );
      }
      const entries = reply.entries.filter((entry) => !owner.inFlight.has(entry.id));
      if (entries.length === 0 || !owner.running) return;
      const counts = await this.deliveryCounts(entries.map((entry) => entry.id));
      for (const entry of entries) owner.dispatch(entry, counts.get(entry.id) ?? 2);
    } catch (error) {
      if (owner.running) this.failures.warn(`Reclaiming idle entries of ${owner.key} failed: ${errorText(error)}.`);
    } finally {
      this.claiming = false;
    }
  }

  private deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const { key, group, consumer } = this.owner;
    return sendStreamCommand(this.client, XPENDING_RANGE, {
      key,
      group,
      start: ids[0],
      end: ids[ids.length - 1],
      count: Math.min(ids.length * 4, 10_000),
      consumer,
    });
  }
}
