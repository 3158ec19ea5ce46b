import { randomBytes } from 'node:crypto';
import type { ReadPacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { ResolvedTransportOptions } from '../resolve-transport-options.js';
import { assertPayloadFits, payloadTooLarge } from '../payload-limit.js';
import { RedisWriteCoalescer } from '../redis-write-coalescer.js';

/**
 * Key of a request packet naming the reply channel of the client that sent it. Nest's built-in server ignores it
 * and answers on `<channel>.reply`; ours answers on the named channel, and with lossless encoding.
 */
export const REPLY_TO_KEY = '$r';

/**
 * The pub/sub half of `RedisTransportClient`. Replies come on one channel per client, subscribed once at connect
 * (Nest's client issues SUBSCRIBE + PUBLISH + UNSUBSCRIBE per request and every client receives every reply).
 * To stay compatible with Nest's own server, the client also keeps `<channel>.reply` subscribed after the first
 * request on a channel: only Nest's server publishes there.
 */
export class RedisPubSubClient {
  readonly replyChannel: string;
  /** `true` once subscribed, the pending SUBSCRIBE before that. */
  private readonly writes: RedisWriteCoalescer;
  private readonly sharedReplyChannels = new Map<string, Promise<unknown> | true>();

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
  ) {
    this.replyChannel = `${options.channelPrefix}_reply:${randomBytes(8).toString('hex')}`;
    this.writes = new RedisWriteCoalescer(pub);
  }

  /** Subscribes the client's reply channel; `onReply` gets every raw reply. */
  async listen(onReply: (raw: string) => void): Promise<void> {
    this.sub.on('message', (_channel: string, raw: string) => onReply(raw));
    await this.sub.subscribe(this.replyChannel);
  }

  /** Publishes a request; resolves once Redis took it. */
  request(channel: string, packet: ReadPacket & { id: string }): Promise<unknown> {
    const full = this.options.channelPrefix + channel;
    const shared = `${full}.reply`;
    const wire = this.options.codec.encode({ ...packet, [REPLY_TO_KEY]: this.replyChannel }, true);
    const tooLarge = payloadTooLarge(wire, this.options.maxPayloadBytes, channel);
    if (tooLarge) return Promise.reject(tooLarge);
    const subscribed = this.sharedReplyChannels.get(shared);
    if (subscribed === true) {
      this.writes.hold();
      return this.pub.publish(full, wire);
    }
    if (subscribed) return subscribed.then(() => this.pub.publish(full, wire));
    const subscribing = this.sub.subscribe(shared).then(
      () => this.sharedReplyChannels.set(shared, true),
      (error: unknown) => {
        this.sharedReplyChannels.delete(shared);
        throw error;
      },
    );
    this.sharedReplyChannels.set(shared, subscribing);
    return subscribing.then(() => this.pub.publish(full, wire));
  }

  /** Publishes an event (fire and forget: nobody may be listening). */
  async event(channel: string, packet: ReadPacket): Promise<void> {
    const wire = this.options.codec.encode(packet as unknown as Record<string, unknown>, true);
    assertPayloadFits(wire, this.options.maxPayloadBytes, channel);
    this.writes.hold();
    await this.pub.publish(this.options.channelPrefix + channel, wire);
  }
}
