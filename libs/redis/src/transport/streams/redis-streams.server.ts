import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { RedisOptionsError } from '../../errors/redis-options.error.js';
import { WILDCARD_IN_STREAMS } from '../redis-transport.messages.js';
import type { RedisTransportServerHost } from '../server/redis-transport-server.host.js';
import { RedisStreamConsumer } from './redis-stream.consumer.js';
import { RedisStreamKeys } from './redis-stream-keys.js';

/**
 * The streams half of `RedisTransportServer`: one consumer (with its own blocking connection) per event pattern,
 * all in the consumer group `streams.group`.
 */
export class RedisStreamsServer {
  readonly keys: RedisStreamKeys;
  private readonly consumers: RedisStreamConsumer[] = [];
  private readonly consumed: string[] = [];

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly pub: RedisClient,
    private readonly openReader: (pattern: string) => Promise<RedisClient>,
  ) {
    this.keys = new RedisStreamKeys(host.options.keyPrefix);
  }

  /** Creates the groups (if missing) and starts consuming the given event patterns. */
  async listen(eventPatterns: string[]): Promise<void> {
    for (const pattern of eventPatterns) {
      if (/[*?[]/.test(pattern)) throw new RedisOptionsError(WILDCARD_IN_STREAMS(pattern), 'mode');
    }
    for (const pattern of eventPatterns) {
      const consumer = new RedisStreamConsumer(this.host, this.pub, await this.openReader(pattern), pattern, this.keys);
      await consumer.start();
      this.consumers.push(consumer);
      this.consumed.push(pattern);
    }
  }

  /** The event patterns being consumed. */
  get patterns(): readonly string[] {
    return this.consumed;
  }

  /** Malformed entries the consumers dead-lettered since they started (junk someone `XADD`ed). */
  get malformedEntries(): number {
    return this.consumers.reduce((sum, consumer) => sum + consumer.malformed, 0);
  }

  /** Stops reading every stream; handlers already running go on (the server waits for them, then acks). */
  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }
}
