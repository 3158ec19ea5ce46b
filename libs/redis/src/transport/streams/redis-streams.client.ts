import type { ReadPacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { ResolvedTransportOptions } from '../resolve-transport-options.js';
import { RedisWriteCoalescer } from '../redis-write-coalescer.js';
import { RedisStreamKeys } from './redis-stream-keys.js';
import { assertPayloadFits } from '../payload-limit.js';

/** Field of a stream entry holding the encoded packet. */
export const PACKET_FIELD = 'p';

/**
 * The streams half of `RedisTransportClient`: `emit` appends the packet to the pattern's stream
 * (`XADD … MAXLEN ~ maxLen`) and resolves with the entry id once Redis confirmed the write.
 */
export class RedisStreamsClient {
  private readonly keys: RedisStreamKeys;
  private readonly writes: RedisWriteCoalescer;

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly pub: RedisClient,
  ) {
    this.keys = new RedisStreamKeys(options.keyPrefix);
    this.writes = new RedisWriteCoalescer(pub);
  }

  async event(pattern: string, packet: ReadPacket): Promise<string> {
    const payload = this.options.codec.encode(packet as unknown as Record<string, unknown>, true);
    assertPayloadFits(payload, this.options.maxPayloadBytes, pattern);
    this.writes.hold();
    const id = await this.pub.xadd(
      this.keys.stream(pattern),
      'MAXLEN',
      '~',
      this.options.streams.maxLen,
      '*',
      PACKET_FIELD,
      payload,
    );
    return id as string;
  }
}
