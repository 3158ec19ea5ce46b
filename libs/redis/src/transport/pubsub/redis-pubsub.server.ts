import type { ReadPacket, WritePacket } from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { EVENT_HANDLER_FAILED, MALFORMED_MESSAGE } from '../redis-transport.messages.js';
import type { RedisTransportServerHost } from '../redis-transport-server.host.js';
import { errorText } from '../error-text.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { REPLY_TO_KEY } from './redis-pubsub.client.js';
import { rejectOversizedPayload } from '../payload-limit.js';
import { RedisPubSubContext } from './redis-pubsub.context.js';

const GLOB = /[*?[]/;
/** What Nest's built-in server answers when no handler matches a request. */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

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

  constructor(
    private readonly host: RedisTransportServerHost,
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
  ) {
    this.malformed = new RateLimitedLog(host.log);
    this.failures = new RateLimitedLog(host.log);
    this.writes = new RedisWriteCoalescer(pub);
  }

  /** Subscribes the given handler patterns (exact channels, or PSUBSCRIBE for glob patterns). */
  async listen(handlerPatterns: string[]): Promise<void> {
    const { channelPrefix, wildcards } = this.host.options;
    for (const pattern of handlerPatterns) {
      const usePattern = wildcards === true || (wildcards === 'auto' && GLOB.test(pattern));
      (usePattern ? this.patterns : this.channels).push(channelPrefix + pattern);
    }
    this.sub.on('message', (channel: string, raw: string) => this.onMessage(channel, channel, raw));
    this.sub.on('pmessage', (subscribed: string, channel: string, raw: string) =>
      this.onMessage(subscribed, channel, raw),
    );
    if (this.channels.length > 0) await this.sub.subscribe(...this.channels);
    if (this.patterns.length > 0) await this.sub.psubscribe(...this.patterns);
  }

  /** Stops reading: no new message is taken after this resolves (handlers already running finish). */
  async stop(): Promise<void> {
    this.sub.removeAllListeners('message');
    this.sub.removeAllListeners('pmessage');
    if (this.sub.status !== 'ready') return;
    await Promise.all([
      this.channels.length > 0 ? this.sub.unsubscribe(...this.channels) : undefined,
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
      decoded = this.host.options.codec.decode(raw);
      if (decoded !== null && typeof decoded === 'object' && REPLY_TO_KEY in decoded) {
        const record = decoded as Record<string, unknown>;
        replyTo = typeof record[REPLY_TO_KEY] === 'string' ? (record[REPLY_TO_KEY] as string) : undefined;
        delete record[REPLY_TO_KEY];
      }
      packet = this.host.deserialize(decoded, channel);
    } catch (error) {
      return this.dropMalformed(channel, error);
    }
    // The default deserializer is synchronous: no promise hop before the handler.
    if (!(packet instanceof Promise)) return this.host.track(this.handle(subscribed, channel, packet, replyTo));
    this.host.track(
      packet.then(
        (ready) => this.handle(subscribed, channel, ready, replyTo),
        (error: unknown) => this.dropMalformed(channel, error),
      ),
    );
  }

  private dropMalformed(channel: string, error: unknown): void {
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
      const wire = this.host.options.codec.encode(outgoing as Record<string, unknown>, lossless);
      this.writes.hold();
      return this.pub.publish(replyChannel, wire);
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
