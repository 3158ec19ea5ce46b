import { BaseRpcContext } from '@nestjs/microservices';
import type { PacketMetadata } from '../codec/packet-metadata.js';

type RedisStreamsContextArgs = [
  stream: string,
  id: string,
  deliveryCount: number,
  attempt: number,
  pattern: string,
  group: string,
  consumer: string,
  metadata: PacketMetadata | undefined,
];

/**
 * Context of a stream entry (`@Ctx() ctx: RedisStreamsContext`): where it comes from and how many times it was
 * tried. Delivery is at-least-once, so a handler with side effects can dedupe on `getId()` (see `RedisIdempotency`).
 */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  /** Redis key of the stream. */
  getStream(): string {
    return this.args[0];
  }

  /** Entry id (`1700000000000-0`): unique within the stream, the same on every redelivery. */
  getId(): string {
    return this.args[1];
  }

  /** How many times Redis delivered the entry to a consumer of the group (1, more after a consumer crashed). */
  getDeliveryCount(): number {
    return this.args[2];
  }

  /** This attempt's number, from 1 to `maxAttempts` (retries after a failure and earlier deliveries count). */
  getAttempt(): number {
    return this.args[3];
  }

  /** The event pattern. */
  getPattern(): string {
    return this.args[4];
  }

  /** The consumer group. */
  getGroup(): string {
    return this.args[5];
  }

  /** This process's consumer name. */
  getConsumer(): string {
    return this.args[6];
  }

  /** The metadata the client attached to the packet, if any. */
  getMetadata(): PacketMetadata | undefined {
    return this.args[7];
  }
}
