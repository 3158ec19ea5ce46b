import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { errorText } from '../../utils/error-text.js';
import type { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { sendStreamCommand } from './commands/stream-command.js';
import { XINFO_CONSUMERS } from './commands/xinfo.command.js';

/** A consumer idle this long with nothing pending is gone (each process gets a new name); never less than 1 h. */
const PRUNE_IDLE_MS = 3_600_000;

/**
 * Removes consumers of the group that hold no pending entry and were idle for an hour (or `10 × claimIdle`):
 * every process joins under a new name, so without this the group lists every process that ever ran. Harmless
 * for a live but quiet consumer: with nothing pending nothing is lost, and its next read recreates it.
 */
export class StreamConsumerPruner {
  constructor(
    private readonly client: RedisClient,
    private readonly key: string,
    private readonly group: string,
    /** This process' consumer, never removed. */
    private readonly consumer: string,
    private readonly claimIdleMs: number,
    private readonly failures: RateLimitedLog,
  ) {}

  /** One pass over the group's consumers (`XINFO CONSUMERS`, then `XGROUP DELCONSUMER` for each departed one). */
  async prune(): Promise<void> {
    if (this.client.status !== 'ready') return;
    const idleLimit = Math.max(PRUNE_IDLE_MS, this.claimIdleMs * 10);
    try {
      const consumers = await sendStreamCommand(this.client, XINFO_CONSUMERS, { key: this.key, group: this.group });
      for (const { name, pending, idleMs } of consumers) {
        if (name === this.consumer || pending !== 0 || idleMs < idleLimit) continue;
        await this.client.xgroup('DELCONSUMER', this.key, this.group, name);
      }
    } catch (error) {
      this.failures.warn(`Pruning idle consumers of ${this.key} failed: ${errorText(error)}.`);
    }
  }
}
