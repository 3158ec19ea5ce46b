import type { ReadPacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';
import { type CommandTicket, ConnectionGate } from '../../connection/connection-gate.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { RedisStreamKeys } from './redis-stream-keys.js';
import { payloadTooLarge } from '../codec/payload-limit.js';
import { awaitStreamReplication } from './stream-durability.js';

/** Field of a stream entry holding the encoded packet. */
export const PACKET_FIELD = 'p';

/**
 * The streams half of `RedisTransportClient`: `emit` appends the packet to the pattern's stream
 * (`XADD … MAXLEN ~ maxLen`) and resolves with the entry id once Redis confirmed the write.
 */
export class RedisStreamsClient {
  private readonly keys: RedisStreamKeys;
  private readonly writes: RedisWriteCoalescer;
  private readonly gate: ConnectionGate;
  private readonly streamKeys = new Map<string, string>();
  private readonly maxLen: string;
  /** Hash slot of each stream key, on a Cluster with `streams.durability` (asked once per key). */
  private readonly slots = new Map<string, number>();

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly pub: RedisClient,
  ) {
    this.keys = new RedisStreamKeys(options.keyPrefix);
    this.writes = new RedisWriteCoalescer(pub);
    this.gate = new ConnectionGate(pub);
    this.maxLen = String(options.streams.maxLen);
  }

  /**
   * Appends the event. While the connection is down the write waits here (not in ioredis' offline queue) and is
   * dropped if `ticket.abandoned` is set by then.
   *
   * @returns the entry id, or `undefined` for an abandoned write
   */
  event(pattern: string, packet: ReadPacket, ticket?: CommandTicket): Promise<string | undefined> {
    const payload = this.options.codec.encode(packet as unknown as Record<string, unknown>, true);
    const tooLarge = payloadTooLarge(payload, this.options.maxPayloadBytes, pattern);
    if (tooLarge) return Promise.reject(tooLarge);
    const key = this.streamKey(pattern);
    const wait = this.gate.whenReady();
    if (wait) return wait.then(() => (ticket?.abandoned ? undefined : this.appendDurably(pattern, key, payload)));
    return this.appendDurably(pattern, key, payload);
  }

  /** The append, then, with `streams.durability`, the wait for the replicas' acknowledgement of it. */
  private appendDurably(pattern: string, key: string, payload: string): Promise<string> {
    const durability = this.options.streams.durability;
    if (!durability) return this.append(key, payload);
    return this.append(key, payload).then(async (id) => {
      await awaitStreamReplication(this.pub, key, pattern, id, durability, this.slots);
      return id;
    });
  }

  private append(key: string, payload: string): Promise<string> {
    this.writes.hold();
    return this.pub.xadd(key, 'MAXLEN', '~', this.maxLen, '*', PACKET_FIELD, payload) as Promise<string>;
  }

  private streamKey(pattern: string): string {
    let key = this.streamKeys.get(pattern);
    if (key === undefined) {
      key = this.keys.stream(pattern);
      // Patterns are a fixed set in practice; the cap only guards against a caller inventing one per event.
      if (this.streamKeys.size < 1_000) this.streamKeys.set(pattern, key);
    }
    return key;
  }
}
