import { RedisContext } from '@nestjs/microservices';
import type { PacketMetadata } from '../codec/packet-metadata.js';

/**
 * Context of a pub/sub message (`@Ctx() ctx: RedisPubSubContext`). A `RedisContext`, so handlers written for Nest's
 * built-in Redis transport keep working.
 */
export class RedisPubSubContext extends RedisContext {
  /** @internal The transport server creates the context of each message; handlers receive it with `@Ctx()`. */
  constructor(
    channel: string,
    metadata: PacketMetadata | undefined,
    private readonly subscribedPattern: string,
  ) {
    super([channel, metadata]);
  }

  /** The pattern the server subscribed to: the handler's pattern, `booking.*` for a wildcard handler. */
  getPattern(): string {
    return this.subscribedPattern;
  }
}
