import type { ReadPacket, WritePacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { EVENT_HANDLER_FAILED, MALFORMED_MESSAGE } from '../redis-transport.messages.js';
import type { RedisTransportServerHost } from '../server/redis-transport-server.host.js';
import { errorText } from '../../utils/error-text.js';
import { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { REPLY_TO_KEY } from './redis-pubsub.client.js';
import { payloadTooLarge, rejectOversizedPayload } from '../codec/payload-limit.js';
import { RedisPubSubContext } from './redis-pubsub.context.js';
import { type PubSubCommands, pubSubCommands } from '../../connection/pubsub-commands.js';
import { RedisOptionsError } from '../../errors/redis-options.error.js';

const GLOB = /[*?[]/;
/** What Nest's built-in server answers when no handler matches a request. */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/**
 * Whether a message is a reply (a response packet: `id` and a reply field, no `pattern`) on a reply channel
 * (`<channel>.reply`, or one of our clients' `<channelPrefix>_reply:…`).
 */
function isReplyTraffic(channel: string, decoded: unknown, clientReplyPrefix: string): boolean {
  if (!channel.endsWith('.reply') && !channel.startsWith(clientReplyPrefix)) return false;
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return false;
  const packet = decoded as Record<string, unknown>;
  return (
    'id' in packet && !('pattern' in packet) && ('isDisposed' in packet || 'response' in packet || 'err' in packet)
  );
}

/**
 * The pub/sub half of `RedisTransportServer`, wire-compatible with Nest's `ServerRedis`: a request is answered on
 * the reply channel named in the packet by our client (`$r`, one per client) or, for Nest's client, on
 * `<channel>.reply`. Events are handled here too unless the server runs in streams mode.
 */
export class RedisPubSubServer {
  private readonly channels: string[] = [];
  private readonly patterns: string[] = [];
  private readonly malformed: RateLimitedLog;
  private readonly failures: RateLimitedLog;
  private readonly writes: RedisWriteCoalescer;
  /** Start of our clients' reply channels, `<channelPrefix>_reply:`. */
  private readonly clientReplyPrefix: string;
  /** Classic or sharded (`shardedPubSub`) channels. */
  private readonly commands: PubSubCommands;

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
  ) {
    this.malformed = new RateLimitedLog(host.log);
    this.failures = new RateLimitedLog(host.log);
    this.writes = new RedisWriteCoalescer(pub);
    this.clientReplyPrefix = `${host.options.channelPrefix}_reply:`;
    this.commands = pubSubCommands(host.options.shardedPubSub);
  }

  /**
   * Subscribes the given handler patterns (exact channels, or PSUBSCRIBE for glob patterns; SSUBSCRIBE with
   * `shardedPubSub`, which has no pattern subscriptions).
   */
  async listen(handlerPatterns: string[]): Promise<void> {
    const { channelPrefix, wildcards, shardedPubSub } = this.host.options;
    for (const pattern of handlerPatterns) {
      const usePattern = wildcards === true || (wildcards === 'auto' && GLOB.test(pattern));
      if (usePattern && shardedPubSub) {
        throw new RedisOptionsError(
          `shardedPubSub: the handler pattern "${pattern}" is a glob, and sharded pub/sub has no pattern ` +
            'subscriptions (use exact patterns, or classic pub/sub).',
          'shardedPubSub',
        );
      }
      (usePattern ? this.patterns : this.channels).push(channelPrefix + pattern);
    }
    this.sub.on(this.commands.messageEvent, (channel: string, raw: string) => this.onMessage(channel, channel, raw));
    this.sub.on('pmessage', (subscribed: string, channel: string, raw: string) =>
      this.onMessage(subscribed, channel, raw),
    );
    if (this.channels.length > 0) await this.commands.subscribe(this.sub, this.channels);
    if (this.patterns.length > 0) await this.sub.psubscribe(...this.patterns);
  }

  /** Stops reading: no new message is taken after this resolves (handlers already running finish). */
  async stop(): Promise<void> {
    this.sub.removeAllListeners(this.commands.messageEvent);
    this.sub.removeAllListeners('pmessage');
    if (this.sub.status !== 'ready') return;
    await Promise.all([
      this.channels.length > 0 ? this.commands.unsubscribe(this.sub, this.channels) : undefined,
      this.patterns.length > 0 ? this.sub.punsubscribe(...this.patterns) : undefined,
    ]).catch(() => undefined);
  }

  private onMessage(subscribed: string, channel: string, raw: string): void {
    if (this.host.closing) return;
    let decoded: unknown;
    let replyTo: string | undefined;
    let packet: (ReadPacket & { id?: string }) | Promise<ReadPacket & { id?: string }>;
    try {
      rejectOversizedPayload(raw, this.host.options.maxPayloadBytes);
      decoded = this.decode(raw);
      // Under a wildcard subscription the server also receives the replies published on `<channel>.reply` (its
      // own, for Nest's client) and on our clients' reply channels: they are nobody's request.
      if (isReplyTraffic(channel, decoded, this.clientReplyPrefix)) return;
      if (decoded !== null && typeof decoded === 'object' && REPLY_TO_KEY in decoded) {
        const record = decoded as Record<string, unknown>;
        replyTo = this.ownReplyChannel(record[REPLY_TO_KEY]);
        delete record[REPLY_TO_KEY];
      }
      packet = this.host.deserialize(decoded, channel);
    } catch (error) {
      return this.dropMalformed(channel, error, true);
    }
    // The default deserializer is synchronous: no promise hop before the handler.
    if (!(packet instanceof Promise)) return this.host.track(this.handle(subscribed, channel, packet, replyTo));
    this.host.track(
      packet.then(
        (ready) => this.handle(subscribed, channel, ready, replyTo),
        (error: unknown) => this.dropMalformed(channel, error, true),
      ),
    );
  }

  /**
   * JSON through the codec. What the codec cannot read goes as it came to a custom deserializer, as the built-in
   * server hands non-JSON messages on; without one it is malformed.
   */
  private decode(raw: string): unknown {
    try {
      return this.host.options.codec.decode(raw);
    } catch (error) {
      if (this.host.options.deserializer === undefined) throw error;
      return raw;
    }
  }

  /**
   * The reply channel a request names, if it is one our clients use (`<channelPrefix>_reply:…`): anyone can publish
   * a request, and an arbitrary `$r` would have this server publish replies on any channel (another application's
   * cache invalidations, say). Otherwise the reply goes where Nest's server sends it, `<channel>.reply`.
   */
  private ownReplyChannel(value: unknown): string | undefined {
    if (typeof value !== 'string' || !value.startsWith(this.clientReplyPrefix)) return undefined;
    return value;
  }

  /** @param unreadable the message itself could not be read (counted as rejected input from Redis) */
  private dropMalformed(channel: string, error: unknown, unreadable = false): void {
    if (unreadable) this.host.options.instrumentation?.emit('input.rejected', { source: 'transport.message' });
    this.malformed.warn(MALFORMED_MESSAGE(`channel "${channel}"`, errorText(error)));
  }

  private async handle(
    subscribed: string,
    channel: string,
    packet: ReadPacket & { id?: string },
    replyTo: string | undefined,
  ): Promise<void> {
    const route = subscribed.slice(this.host.options.channelPrefix.length);
    const context = new RedisPubSubContext(channel, packet.metadata, route);
    const startedAt = performance.now();
    if (packet.id === undefined) {
      try {
        await this.host.runEvent(route, packet, context);
        this.host.report(route, startedAt, 'ok');
      } catch (error) {
        this.host.report(route, startedAt, 'failed');
        this.failures.warn(EVENT_HANDLER_FAILED(route, errorText(error)));
      }
      return;
    }
    const id = packet.id;
    // Nest's client waits on `<channel>.reply` and reads plain JSON; our client names its own channel.
    const replyChannel = replyTo ?? `${channel}.reply`;
    const lossless = replyTo !== undefined;
    let failed = false;
    const publish = (outgoing: unknown): Promise<unknown> => {
      const { codec, maxPayloadBytes } = this.host.options;
      let wire = codec.encode(outgoing as Record<string, unknown>, lossless);
      const tooLarge = payloadTooLarge(wire, maxPayloadBytes, route);
      if (tooLarge) {
        // Clients drop a reply over their limit unread, so the caller would wait out its sendTimeout: it gets this
        // error instead, at once, and the operator a warning naming the route and the size.
        this.failures.warn(tooLarge.message);
        wire = codec.encode({ id, err: tooLarge.message, isDisposed: true }, lossless);
      }
      this.writes.hold();
      return this.commands.publish(this.pub, replyChannel, wire);
    };
    const respond = (response: WritePacket): Promise<unknown> => {
      failed ||= response.err !== undefined;
      if (response.isDisposed) this.host.report(route, startedAt, failed ? 'failed' : 'ok');
      try {
        // Response packets are made per reply (here, or by Nest for observable handlers): tag them in place.
        (response as WritePacket & { id: string }).id = id;
        const outgoing = this.host.serializeResponse(response as WritePacket & { id: string });
        return outgoing instanceof Promise ? outgoing.then(publish) : publish(outgoing);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    try {
      const handler = this.host.handlerFor(route);
      if (!handler) {
        await respond({ status: 'error', err: NO_MESSAGE_HANDLER, isDisposed: true });
        return;
      }
      await this.host.runRequest(context, handler, packet, respond);
    } catch (error) {
      this.dropMalformed(channel, error);
    }
  }
}
