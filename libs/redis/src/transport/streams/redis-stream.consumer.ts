import type { ReadPacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { errorText } from '../error-text.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { DEAD_LETTERED, HANDLER_FAILED, MALFORMED_ENTRY } from '../redis-transport.messages.js';
import type { RedisTransportServerHost } from '../redis-transport-server.host.js';
import { PACKET_FIELD } from './redis-streams.client.js';
import { RedisStreamsContext } from './redis-streams.context.js';
import { rejectOversizedPayload } from '../payload-limit.js';
import type { RedisStreamKeys } from './redis-stream-keys.js';
import { toRecord } from './redis-streams.info.js';

type StreamEntry = [id: string, fields: string[] | null];

/** How often a consumer looks for departed consumers of its group to remove. */
const PRUNE_INTERVAL_MS = 60_000;
/** A consumer idle this long with nothing pending is gone (each process gets a new name); never less than 1 h. */
const PRUNE_IDLE_MS = 3_600_000;
/**
 * How long a handled entry may wait for its `XACK`, to share it with the entries handled right after it: at a few
 * thousand events per second that is one `XACK` (and one reply to wake up for) per several entries instead of one
 * each. A crash inside the window only means those entries are delivered again (at least once).
 */
const ACK_WINDOW_MS = 2;
/** Entries per `XACK`: a full batch is sent at once, without waiting for the window. */
const ACK_BATCH = 128;
type PendingDetail = [id: string, consumer: string, idleMs: number, deliveries: number];

/**
 * The entries of an XREADGROUP reply, whatever the protocol: RESP2 gives `[[stream, entries]]`; RESP3 (ioredis 6's
 * default) gives a map, which ioredis flattens to `[stream, entries]` (or hands over as a Map/object).
 */
export function entriesOf(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (reply instanceof Map) return [...reply.values()].flat() as StreamEntry[];
  if (!Array.isArray(reply)) return Object.values(reply as Record<string, StreamEntry[]>).flat();
  if (reply.length === 0) return [];
  if (Array.isArray(reply[0])) return (reply as Array<[string, StreamEntry[]]>).flatMap(([, entries]) => entries);
  const out: StreamEntry[] = [];
  for (let i = 1; i < reply.length; i += 2) out.push(...(reply[i] as StreamEntry[]));
  return out;
}

function field(fields: string[] | null, name: string): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Consumes one pattern's stream as one consumer of the group: reads new entries (`XREADGROUP >`) while fewer than
 * `concurrency` are in flight, acknowledges each after its handler succeeded, retries failures with backoff,
 * dead-letters what still fails after `maxAttempts` (or cannot be decoded), keeps its in-flight entries fresh
 * (`XCLAIM … JUSTID`) and reclaims entries other consumers left pending for `claimIdle` (`XAUTOCLAIM`).
 */
export class RedisStreamConsumer {
  readonly key: string;
  private readonly deadKey: string;
  private readonly group: string;
  private readonly consumer: string;
  private readonly concurrency: number;
  private readonly inFlight = new Set<string>();
  private readonly failures: RateLimitedLog;
  private readonly writes: RedisWriteCoalescer;
  private running = true;
  private loop?: Promise<void>;
  private wake?: () => void;
  private stopped!: Promise<void>;
  private signalStopped!: () => void;
  private timers: NodeJS.Timeout[] = [];
  private claimCursor = '0-0';
  private claiming = false;
  /** Handled entries waiting for their `XACK` (sent within `ACK_WINDOW_MS`). */
  private acks: string[] = [];
  private ackTimer?: NodeJS.Timeout;

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly pub: RedisClient,
    private readonly reader: RedisClient,
    private readonly pattern: string,
    keys: RedisStreamKeys,
  ) {
    const { streams } = host.options;
    this.key = keys.stream(pattern);
    this.deadKey = keys.deadLetter(pattern);
    this.group = streams.group!;
    this.consumer = streams.consumer;
    this.concurrency = streams.concurrencyOf(pattern);
    this.failures = new RateLimitedLog(host.log);
    this.writes = new RedisWriteCoalescer(pub);
    this.stopped = new Promise((resolve) => (this.signalStopped = resolve));
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    const { claimIdle, claimInterval } = this.host.options.streams;
    this.loop = this.readLoop();
    this.timers.push(setInterval(() => void this.refreshInFlight(), Math.max(50, Math.floor(claimIdle / 3))));
    this.timers.push(setInterval(() => void this.reclaim(), claimInterval));
    this.timers.push(setInterval(() => void this.pruneConsumers(), PRUNE_INTERVAL_MS));
  }

  /** Stops reading and reclaiming; entries already taken keep running (the server waits for them). */
  async stop(): Promise<void> {
    this.running = false;
    this.signalStopped();
    this.flushAcks();
    this.timers.forEach(clearInterval);
    this.wake?.();
    await this.loop;
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
    while (this.running) {
      const free = this.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        const reply = await this.reader.call(
          'XREADGROUP',
          'GROUP',
          this.group,
          this.consumer,
          'COUNT',
          free,
          'BLOCK',
          blockTime,
          'STREAMS',
          this.key,
          '>',
        );
        failed = 0;
        const entries = entriesOf(reply);
        // Entries returned after stop() are ours in Redis' eyes: handle them rather than leave them pending.
        for (const [id, fields] of entries) this.dispatch(id, fields, 1);
        // Let the handlers just started issue their own I/O before this loop's next read goes out (and more
        // entries arrive for it to take in one go).
        if (entries.length > 0) await new Promise((resolve) => setImmediate(resolve));
      } catch (error) {
        if (!this.running) break;
        const reason = errorText(error);
        // A Redis that restarted without persistence lost the group: create it again and carry on.
        if (/NOGROUP/.test(reason)) await this.ensureGroup().catch(() => undefined);
        else this.failures.warn(`Reading stream ${this.key} failed: ${reason}; retrying.`);
        failed++;
        await this.sleep(Math.min(50 * 2 ** Math.min(failed, 7), 5_000));
      }
    }
  }

  private dispatch(id: string, fields: string[] | null, deliveryCount: number): void {
    this.inFlight.add(id);
    this.host.track(this.process(id, fields, deliveryCount).then(() => this.finished(id), this.leftPending(id)));
  }

  private finished(id: string): void {
    this.inFlight.delete(id);
    this.wake?.();
  }

  private leftPending(id: string): (error: unknown) => void {
    return (error) => {
      // Dead-lettering failed (Redis unreachable): the entry stays pending and will be reclaimed.
      this.failures.warn(`Entry ${id} of ${this.key} left pending: ${errorText(error)}.`);
      this.finished(id);
    };
  }

  private async process(id: string, fields: string[] | null, deliveryCount: number): Promise<void> {
    const raw = field(fields, PACKET_FIELD);
    let packet: ReadPacket;
    try {
      if (raw === undefined) throw new Error(`no "${PACKET_FIELD}" field`);
      rejectOversizedPayload(raw, this.host.options.maxPayloadBytes);
      const deserialized = this.host.deserialize(this.host.options.codec.decode(raw), this.key);
      packet = deserialized instanceof Promise ? await deserialized : deserialized;
    } catch (error) {
      const reason = `malformed payload: ${errorText(error)}`;
      this.host.log.warn?.(MALFORMED_ENTRY(this.key, id, errorText(error)));
      await this.deadLetter(id, raw ?? JSON.stringify(fields), reason, 0);
      return;
    }
    const { maxAttempts } = this.host.options.streams;
    if (deliveryCount > maxAttempts) {
      const reason = `delivered ${deliveryCount} times without being acknowledged (consumers crashed or stopped while handling it)`;
      this.host.log.warn?.(DEAD_LETTERED(this.key, id, deliveryCount, reason));
      await this.deadLetter(id, raw, reason, deliveryCount);
      return;
    }
    // Earlier deliveries that were never acknowledged count as attempts.
    for (let attempt = deliveryCount; ; attempt++) {
      const context = new RedisStreamsContext([
        this.key,
        id,
        deliveryCount,
        attempt,
        this.pattern,
        this.group,
        this.consumer,
        packet.metadata,
      ]);
      const startedAt = performance.now();
      try {
        await this.host.runEvent(this.pattern, packet, context);
      } catch (error) {
        const reason = errorText(error);
        if (attempt >= maxAttempts) {
          this.host.log.warn?.(DEAD_LETTERED(this.key, id, attempt, reason));
          await this.deadLetter(id, raw, reason, attempt);
          this.host.report(this.pattern, startedAt, 'dead-lettered');
          return;
        }
        this.host.report(this.pattern, startedAt, 'failed');
        this.failures.warn(HANDLER_FAILED(this.pattern, attempt, maxAttempts, reason));
        await this.sleep(this.backoff(attempt));
        // Shutting down: leave the entry pending; another consumer (or this one, restarted) reclaims it.
        if (!this.running) return;
        continue;
      }
      this.host.report(this.pattern, startedAt, 'ok');
      this.ack(id);
      return;
    }
  }

  /**
   * Acknowledges a handled entry together with those handled within the next `ACK_WINDOW_MS`: one
   * `XACK key group id…` for all of them. The entry's concurrency slot is free from here on; shutdown still waits
   * for the `XACK` (it is tracked like a handler run), and one that fails leaves its entries pending, to be reclaimed.
   */
  private ack(id: string): void {
    this.acks.push(id);
    if (this.acks.length >= ACK_BATCH || !this.running) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ACK_WINDOW_MS);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.acks.length === 0) return;
    const ids = this.acks;
    this.acks = [];
    this.writes.hold();
    this.host.track(
      this.pub
        .xack(this.key, this.group, ...ids)
        .catch((error: unknown) =>
          this.failures.warn(`${ids.length} handled entr(y/ies) of ${this.key} left pending: ${errorText(error)}.`),
        ),
    );
  }

  private backoff(attempt: number): number {
    const { retryDelay, retryMaxDelay } = this.host.options.streams;
    return Math.min(retryDelay * 2 ** Math.min(attempt - 1, 20), retryMaxDelay);
  }

  private async deadLetter(id: string, payload: string, error: string, attempts: number): Promise<void> {
    const { deadLetterMaxLen } = this.host.options.streams;
    const results = await this.pub
      .multi()
      .xadd(
        this.deadKey,
        'MAXLEN',
        '~',
        deadLetterMaxLen,
        '*',
        'pattern',
        this.pattern,
        'stream',
        this.key,
        'id',
        id,
        'group',
        this.group,
        'consumer',
        this.consumer,
        'attempts',
        String(attempts),
        'error',
        error,
        'payload',
        payload,
        'failedAt',
        new Date().toISOString(),
      )
      .xack(this.key, this.group, id)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('dead-lettering transaction aborted');
  }

  /** Resets the idle time of the entries being handled, so no other consumer reclaims them. */
  private async refreshInFlight(): Promise<void> {
    if (this.inFlight.size === 0 || this.pub.status !== 'ready') return;
    await this.pub
      .xclaim(this.key, this.group, this.consumer, 0, ...[...this.inFlight], 'JUSTID')
      .catch(() => undefined);
  }

  /** Takes over entries another consumer (a crashed one, or a lost reply) left pending for `claimIdle`. */
  private async reclaim(): Promise<void> {
    const free = this.concurrency - this.inFlight.size;
    if (!this.running || this.claiming || free <= 0 || this.pub.status !== 'ready') return;
    this.claiming = true;
    try {
      const { claimIdle } = this.host.options.streams;
      const [next, claimed, deleted] = (await this.pub.call(
        'XAUTOCLAIM',
        this.key,
        this.group,
        this.consumer,
        claimIdle,
        this.claimCursor,
        'COUNT',
        free,
      )) as [string, Array<StreamEntry | null>, string[] | undefined];
      this.claimCursor = next;
      if (deleted && deleted.length > 0) {
        this.host.log.warn?.(
          `${deleted.length} pending entr(y/ies) of ${this.key} were trimmed before being handled (raise streams.maxLen).`,
        );
      }
      const entries = claimed.filter((e): e is StreamEntry => !!e && e[1] !== null && !this.inFlight.has(e[0]));
      if (entries.length === 0 || !this.running) return;
      const counts = await this.deliveryCounts(entries.map(([id]) => id));
      for (const [id, fields] of entries) this.dispatch(id, fields, counts.get(id) ?? 2);
    } catch (error) {
      if (this.running) this.failures.warn(`Reclaiming idle entries of ${this.key} failed: ${errorText(error)}.`);
    } finally {
      this.claiming = false;
    }
  }

  /**
   * Removes consumers of the group that hold no pending entry and were idle for an hour (or `10 × claimIdle`):
   * every process joins under a new name, so without this the group lists every process that ever ran. Harmless
   * for a live but quiet consumer: with nothing pending nothing is lost, and its next read recreates it.
   */
  private async pruneConsumers(): Promise<void> {
    if (!this.running || this.pub.status !== 'ready') return;
    const idleLimit = Math.max(PRUNE_IDLE_MS, this.host.options.streams.claimIdle * 10);
    try {
      const consumers = (await this.pub.call('XINFO', 'CONSUMERS', this.key, this.group)) as unknown[];
      for (const raw of consumers) {
        const info = toRecord(raw);
        const name = String(info.name);
        if (name === this.consumer || Number(info.pending) !== 0 || Number(info.idle) < idleLimit) continue;
        await this.pub.xgroup('DELCONSUMER', this.key, this.group, name);
      }
    } catch (error) {
      this.failures.warn(`Pruning idle consumers of ${this.key} failed: ${errorText(error)}.`);
    }
  }

  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const details = (await this.pub.call(
      'XPENDING',
      this.key,
      this.group,
      ids[0],
      ids[ids.length - 1],
      Math.min(ids.length * 4, 10_000),
      this.consumer,
    )) as PendingDetail[];
    return new Map(details.map(([id, , , deliveries]) => [id, Number(deliveries)]));
  }

  /** Waits `ms`, or less when the consumer stops. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), this.stopped]);
    clearTimeout(timer);
  }
}
