import type { ReadPacket } from '@nestjs/microservices';
import { errorText } from '../../utils/error-text.js';
import type { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { rejectOversizedPayload } from '../codec/payload-limit.js';
import { DEAD_LETTERED, HANDLER_FAILED, MALFORMED_ENTRY } from '../redis-transport.messages.js';
import type { RedisTransportServerHost } from '../server/redis-transport-server.host.js';
import { fieldOf, type StreamEntry } from './commands/stream-reply.js';
import type { DeadLetterWriter } from './dead-letter.writer.js';
import { PACKET_FIELD } from './redis-streams.client.js';
import { RedisStreamsContext } from './redis-streams.context.js';
import type { StreamAckBatcher } from './stream-ack.batcher.js';

/** Where one pattern's entries are read and what the runner reports to. */
export interface StreamEntryRunnerTarget {
  key: string;
  pattern: string;
  group: string;
  consumer: string;
}

/** How the runner logs: malformed entries and failed handler runs each get their own rate-limited log. */
export interface StreamEntryRunnerLogs {
  /** Malformed (junk) entries: one line per interval, with the number suppressed. */
  malformed: RateLimitedLog;
  /** Handler failures, retries and dead-lettering. */
  failures: RateLimitedLog;
}

/**
 * Runs one stream entry to its end: decodes it (a malformed entry is dead-lettered at once), runs the pattern's
 * handler, retries it in place with exponential backoff, and then either acknowledges it or dead-letters it after
 * `maxAttempts` (deliveries to consumers that crashed count as attempts). Nothing an entry carries can make it
 * throw: the only rejection left is a dead-lettering Redis refused, and then the entry stays pending.
 */
export class StreamEntryRunner {
  private malformedCount = 0;

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly target: StreamEntryRunnerTarget,
    private readonly acks: StreamAckBatcher,
    private readonly deadLetters: DeadLetterWriter,
    private readonly logs: StreamEntryRunnerLogs,
    /** Whether the consumer is still running (stopping: leave failed entries pending instead of retrying). */
    private readonly running: () => boolean,
    /** Waits `ms`, or less when the consumer stops. */
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Malformed entries seen since the consumer started. */
  get malformed(): number {
    return this.malformedCount;
  }

  /** @param deliveryCount how many times Redis delivered the entry (1 for a first read) */
  async run({ id, fields }: StreamEntry, deliveryCount: number): Promise<void> {
    const { key, pattern, group, consumer } = this.target;
    const raw = fieldOf(fields, PACKET_FIELD);
    let packet: ReadPacket;
    try {
      if (raw === undefined) throw new Error(`no "${PACKET_FIELD}" field`);
      rejectOversizedPayload(raw, this.host.options.maxPayloadBytes);
      const deserialized = this.host.deserialize(this.host.options.codec.decode(raw), key);
      packet = deserialized instanceof Promise ? await deserialized : deserialized;
      if (packet === null || typeof packet !== 'object') throw new Error('the packet is not an object');
    } catch (error) {
      this.malformedCount++;
      this.host.options.instrumentation?.emit('input.rejected', { source: 'transport.stream' });
      const reason = errorText(error);
      this.logs.malformed.warn(MALFORMED_ENTRY(key, id, reason));
      await this.deadLetters.write(id, raw ?? JSON.stringify(fields), `malformed payload: ${reason}`, 0);
      return;
    }
    const { maxAttempts } = this.host.options.streams;
    if (deliveryCount > maxAttempts) {
      const reason = `delivered ${deliveryCount} times without being acknowledged (consumers crashed or stopped while handling it)`;
      this.logs.failures.warn(DEAD_LETTERED(key, id, deliveryCount, reason), 'dead-lettered');
      await this.deadLetters.write(id, raw, reason, deliveryCount);
      return;
    }
    // Earlier deliveries that were never acknowledged count as attempts.
    for (let attempt = deliveryCount; ; attempt++) {
      const context = new RedisStreamsContext([
        key,
        id,
        deliveryCount,
        attempt,
        pattern,
        group,
        consumer,
        packet.metadata,
      ]);
      const startedAt = performance.now();
      try {
        await this.host.runEvent(pattern, packet, context);
      } catch (error) {
        const reason = errorText(error);
        if (attempt >= maxAttempts) {
          this.logs.failures.warn(DEAD_LETTERED(key, id, attempt, reason), 'dead-lettered');
          await this.deadLetters.write(id, raw, reason, attempt);
          this.host.report(pattern, startedAt, 'dead-lettered');
          return;
        }
        this.host.report(pattern, startedAt, 'failed');
        this.logs.failures.warn(HANDLER_FAILED(pattern, attempt, maxAttempts, reason));
        await this.sleep(this.backoff(attempt));
        // Shutting down: leave the entry pending; another consumer (or this one, restarted) reclaims it.
        if (!this.running()) return;
        continue;
      }
      this.host.report(pattern, startedAt, 'ok');
      this.acks.ack(id, !this.running());
      return;
    }
  }

  private backoff(attempt: number): number {
    const { retryDelay, retryMaxDelay } = this.host.options.streams;
    return Math.min(retryDelay * 2 ** Math.min(attempt - 1, 20), retryMaxDelay);
  }
}
