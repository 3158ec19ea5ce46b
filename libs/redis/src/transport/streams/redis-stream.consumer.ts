import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { errorText } from '../../utils/error-text.js';
import { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { waitWithin } from '../../utils/settle-within.js';
import type { RedisTransportServerHost } from '../server/redis-transport-server.host.js';
import { sendStreamCommand } from './commands/stream-command.js';
import type { StreamEntry } from './commands/stream-reply.js';
import { XREADGROUP } from './commands/xreadgroup.command.js';
import { DeadLetterWriter } from './dead-letter.writer.js';
import type { RedisStreamKeys } from './redis-stream-keys.js';
import { StreamAckBatcher } from './stream-ack.batcher.js';
import { StreamConsumerPruner } from './stream-consumer.pruner.js';
import { StreamEntryRunner } from './stream-entry.runner.js';
import { type ReclaimingConsumer, StreamReclaimer } from './stream-reclaimer.js';

/** How often a consumer looks for departed consumers of its group to remove. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Consumes one pattern's stream as one consumer of the group: reads new entries (`XREADGROUP >`) while fewer than
 * `concurrency` are in flight and hands each to the {@link StreamEntryRunner} (decode, handler, retries, ack or
 * dead letter). Beside the read loop, on timers: the {@link StreamReclaimer} keeps in-flight entries fresh and
 * takes over entries other consumers left pending, and the {@link StreamConsumerPruner} removes departed consumers.
 */
export class RedisStreamConsumer implements ReclaimingConsumer {
  readonly key: string;
  readonly group: string;
  readonly consumer: string;
  readonly inFlight = new Set<string>();
  private readonly concurrency: number;
  private readonly failures: RateLimitedLog;
  private readonly acks: StreamAckBatcher;
  private readonly runner: StreamEntryRunner;
  private readonly reclaimer: StreamReclaimer;
  private readonly pruner: StreamConsumerPruner;
  private isRunning = true;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly stopped: Promise<void>;
  private signalStopped!: () => void;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly pub: RedisClient,
    private readonly reader: RedisClient,
    readonly pattern: string,
    keys: RedisStreamKeys,
  ) {
    const { streams, maxPayloadBytes } = host.options;
    this.key = keys.stream(pattern);
    this.group = streams.group!;
    this.consumer = streams.consumer;
    this.concurrency = streams.concurrencyOf(pattern);
    this.failures = new RateLimitedLog(host.log);
    this.stopped = new Promise((resolve) => (this.signalStopped = resolve));
    this.acks = new StreamAckBatcher(pub, this.key, this.group, (work) => host.track(work), this.failures);
    const deadLetters = new DeadLetterWriter(pub, {
      key: this.key,
      deadKey: keys.deadLetter(pattern),
      pattern,
      group: this.group,
      consumer: this.consumer,
      maxLen: streams.deadLetterMaxLen,
      maxPayloadBytes,
    });
    this.runner = new StreamEntryRunner(
      host,
      { key: this.key, pattern, group: this.group, consumer: this.consumer },
      this.acks,
      deadLetters,
      { malformed: new RateLimitedLog(host.log), failures: this.failures },
      () => this.isRunning,
      (ms) => this.sleep(ms),
    );
    this.reclaimer = new StreamReclaimer(pub, this, streams.claimIdle, host.log, this.failures);
    this.pruner = new StreamConsumerPruner(pub, this.key, this.group, this.consumer, streams.claimIdle, this.failures);
  }

  /** Whether the consumer still reads (false from `stop()` on). */
  get running(): boolean {
    return this.isRunning;
  }

  /** Free handler slots. */
  get free(): number {
    return this.concurrency - this.inFlight.size;
  }

  /** Malformed entries dead-lettered since the consumer started. */
  get malformed(): number {
    return this.runner.malformed;
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    const { claimIdle, claimInterval } = this.host.options.streams;
    this.loop = this.readLoop();
    this.timers.push(setInterval(() => void this.reclaimer.refreshInFlight(), Math.max(50, Math.floor(claimIdle / 3))));
    this.timers.push(setInterval(() => void this.reclaimer.reclaim(), claimInterval));
    this.timers.push(setInterval(() => void (this.isRunning && this.pruner.prune()), PRUNE_INTERVAL_MS));
  }

  /** Stops reading and reclaiming; entries already taken keep running (the server waits for them). */
  async stop(): Promise<void> {
    this.isRunning = false;
    this.signalStopped();
    this.acks.flush();
    this.timers.forEach(clearInterval);
    this.wake?.();
    await this.loop;
  }

  /** Starts handling `entry` (read now, or reclaimed with its delivery count). */
  dispatch(entry: StreamEntry, deliveryCount: number): void {
    const { id } = entry;
    this.inFlight.add(id);
    this.host.track(
      this.runner.run(entry, deliveryCount).then(
        () => this.finished(id),
        (error: unknown) => {
          // Dead-lettering failed (Redis unreachable): the entry stays pending and will be reclaimed.
          this.failures.warn(`Entry ${id} of ${this.key} left pending: ${errorText(error)}.`);
          this.finished(id);
        },
      ),
    );
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.pub.xgroup('CREATE', this.key, this.group, this.host.options.streams.startId, 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test(errorText(error))) throw error;
    }
  }

  private async readLoop(): Promise<void> {
    const { blockTime } = this.host.options.streams;
    let failed = 0;
    while (this.isRunning) {
      const free = this.free;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        const entries = await sendStreamCommand(this.reader, XREADGROUP, {
          group: this.group,
          consumer: this.consumer,
          count: free,
          blockMs: blockTime,
          key: this.key,
        });
        failed = 0;
        // Entries returned after stop() are ours in Redis' eyes: handle them rather than leave them pending.
        for (const entry of entries) this.dispatch(entry, 1);
        // Let the handlers just started issue their own I/O before this loop's next read goes out (and more
        // entries arrive for it to take in one go).
        if (entries.length > 0) await new Promise((resolve) => setImmediate(resolve));
      } catch (error) {
        if (!this.isRunning) break;
        const reason = errorText(error);
        // A Redis that restarted without persistence lost the group: create it again and carry on.
        if (/NOGROUP/.test(reason)) await this.ensureGroup().catch(() => undefined);
        else this.failures.warn(`Reading stream ${this.key} failed: ${reason}; retrying.`);
        failed++;
        await this.sleep(Math.min(50 * 2 ** Math.min(failed, 7), 5_000));
      }
    }
  }

  private finished(id: string): void {
    this.inFlight.delete(id);
    this.wake?.();
  }

  /** Waits `ms`, or less when the consumer stops. */
  private async sleep(ms: number): Promise<void> {
    await waitWithin(this.stopped, ms);
  }
}
