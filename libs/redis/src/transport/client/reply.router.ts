import type { LoggerService } from '@nestjs/common';
import type { ProducerDeserializer, WritePacket } from '@nestjs/microservices';
import { errorText } from '../../utils/error-text.js';
import { rejectOversizedPayload } from '../codec/payload-limit.js';
import { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { MALFORMED_MESSAGE } from '../redis-transport.messages.js';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';
import type { PendingRequest } from './pending-request.js';

/**
 * Hands each message of the client's reply channel to the request waiting for it. Anyone who can PUBLISH on the
 * app's Redis can write one, so it is decoded and routed defensively; what cannot be read is counted, logged
 * (rate-limited) and dropped, never thrown into ioredis' socket callback.
 */
export class ReplyRouter {
  private readonly malformed: RateLimitedLog;

  /**
   * @param requests the client's table of requests waiting for a reply, by packet id
   * @param deserializer the client's packet deserializer (read at each reply: Nest may replace it)
   */
  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly requests: ReadonlyMap<string, PendingRequest>,
    private readonly deserializer: () => Pick<ProducerDeserializer, 'deserialize'>,
    logger: LoggerService,
  ) {
    this.malformed = new RateLimitedLog(logger);
  }

  /** A raw message of the reply channel. */
  onReply(raw: string | Buffer): void {
    let decoded: unknown;
    try {
      // Before parsing: anyone who can PUBLISH could otherwise make every client parse megabytes of JSON.
      rejectOversizedPayload(raw, this.options.maxPayloadBytes);
      decoded = this.deserializer().deserialize(this.decodeReply(raw));
    } catch (error) {
      return this.dropReply(error);
    }
    // The default deserializer is synchronous: route the reply without a promise hop.
    if (!(decoded instanceof Promise)) return this.routeSafely(decoded);
    decoded.then(
      (packet: unknown) => this.routeSafely(packet),
      (error: unknown) => this.dropReply(error),
    );
  }

  /**
   * A reply the codec reads (JSON) is decoded; one it cannot read goes as it came (the string, or the bytes with
   * `returnBuffers`) to a custom deserializer, as the built-in client hands non-JSON replies on. Without a custom
   * deserializer nothing could route it: it is dropped as malformed.
   */
  private decodeReply(raw: string | Buffer): unknown {
    try {
      return this.options.codec.decode(typeof raw === 'string' ? raw : raw.toString());
    } catch (error) {
      if (this.options.deserializer === undefined) throw error;
      return raw;
    }
  }

  private dropReply(error: unknown): void {
    this.options.instrumentation?.emit('input.rejected', { source: 'transport.reply' });
    this.malformed.warn(MALFORMED_MESSAGE('a reply channel', errorText(error)));
  }

  private routeSafely(packet: unknown): void {
    try {
      this.route(packet);
    } catch (error) {
      this.dropReply(error);
    }
  }

  private route(value: unknown): void {
    if (value === null || typeof value !== 'object') return;
    const packet = value as WritePacket & { id?: unknown };
    const request = typeof packet.id === 'string' ? this.requests.get(packet.id) : undefined;
    if (!request) return;
    const { err, response, isDisposed } = packet;
    request.reply(isDisposed || err ? { err, response, isDisposed: true } : { err, response });
  }
}
