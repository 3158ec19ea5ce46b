import { randomBytes } from 'node:crypto';
import type { ReadPacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';
import { type CommandTicket, ConnectionGate } from '../../connection/connection-gate.js';
import { payloadTooLarge } from '../codec/payload-limit.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { type PubSubCommands, pubSubCommands } from '../../connection/pubsub-commands.js';

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
  private readonly writes: RedisWriteCoalescer;
  private readonly gate: ConnectionGate;
  /** `true` once subscribed, the pending SUBSCRIBE before that. */
  private readonly sharedReplyChannels = new Map<string, Promise<unknown> | true>();
  private readonly channels = new Map<string, { full: string; shared: string }>();
  /** Classic or sharded (`shardedPubSub`) channels. */
  private readonly commands: PubSubCommands;

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
  ) {
    this.replyChannel = `${options.channelPrefix}_reply:${randomBytes(8).toString('hex')}`;
    this.writes = new RedisWriteCoalescer(pub);
    this.gate = new ConnectionGate(pub);
    this.commands = pubSubCommands(options.shardedPubSub);
  }

  /**
   * Subscribes the client's reply channel; `onReply` gets every raw reply: a string, or with `returnBuffers` the
   * published bytes, so that replies which are not UTF-8 text reach the deserializer intact.
   */
  async listen(onReply: (raw: string | Buffer) => void): Promise<void> {
    const { messageEvent, messageBufferEvent } = this.commands;
    if (this.options.returnBuffers) this.sub.on(messageBufferEvent, (_channel: Buffer, raw: Buffer) => onReply(raw));
    else this.sub.on(messageEvent, (_channel: string, raw: string) => onReply(raw));
    await this.commands.subscribe(this.sub, [this.replyChannel]);
  }

  /**
   * Publishes a request; resolves once Redis took it. While the connection is down it waits here (not in ioredis'
   * offline queue) and is dropped if `ticket.abandoned` is set by then (the request timed out or was cancelled).
   *
   * @param owned the packet is the client's own object (the serializer returned it as is): the reply channel is
   *   written into it instead of into a copy
   */
  request(
    channel: string,
    packet: ReadPacket & { id: string },
    ticket?: CommandTicket,
    owned = false,
  ): Promise<unknown> {
    const outgoing = (owned ? packet : { ...packet }) as unknown as Record<string, unknown>;
    outgoing[REPLY_TO_KEY] = this.replyChannel;
    const wire = this.options.codec.encode(outgoing, true);
    const tooLarge = payloadTooLarge(wire, this.options.maxPayloadBytes, channel);
    if (tooLarge) return Promise.reject(tooLarge);
    const { full, shared } = this.channelsOf(channel);
    // Nest's server answers on `<channel>.reply` with a classic PUBLISH; it cannot receive a sharded request anyway.
    if (this.options.shardedPubSub) return this.publish(full, wire, ticket);
    const subscribed = this.sharedReplyChannels.get(shared);
    if (subscribed === true) return this.publish(full, wire, ticket);
    if (subscribed) return subscribed.then(() => this.publish(full, wire, ticket));
    const subscribing = this.sub.subscribe(shared).then(
      () => this.sharedReplyChannels.set(shared, true),
      (error: unknown) => {
        this.sharedReplyChannels.delete(shared);
        throw error;
      },
    );
    this.sharedReplyChannels.set(shared, subscribing);
    return subscribing.then(() => this.publish(full, wire, ticket));
  }

  /** Publishes an event (fire and forget: nobody may be listening); waits for the connection as `request` does. */
  event(channel: string, packet: ReadPacket, ticket?: CommandTicket): Promise<unknown> {
    const wire = this.options.codec.encode(packet as unknown as Record<string, unknown>, true);
    const tooLarge = payloadTooLarge(wire, this.options.maxPayloadBytes, channel);
    if (tooLarge) return Promise.reject(tooLarge);
    return this.publish(this.options.channelPrefix + channel, wire, ticket);
  }

  /** The request channel of a pattern and the `<channel>.reply` Nest's server answers on, computed once. */
  private channelsOf(pattern: string): { full: string; shared: string } {
    let channels = this.channels.get(pattern);
    if (!channels) {
      const full = this.options.channelPrefix + pattern;
      channels = { full, shared: `${full}.reply` };
      // Patterns are a fixed set in practice; the cap only guards against a caller inventing one per request.
      if (this.channels.size < 1_000) this.channels.set(pattern, channels);
    }
    return channels;
  }

  private publish(channel: string, wire: string, ticket: CommandTicket | undefined): Promise<unknown> {
    const wait = this.gate.whenReady();
    if (wait) return wait.then(() => (ticket?.abandoned ? undefined : this.publish(channel, wire, ticket)));
    this.writes.hold();
    return this.commands.publish(this.pub, channel, wire);
  }
}
