import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { RedisTransportClosedError } from '../errors/redis-transport-closed.error.js';
import { RedisTransportTimeoutError } from '../errors/redis-transport-timeout.error.js';
import { RedisPubSubClient } from './pubsub/redis-pubsub.client.js';
import { errorText } from './error-text.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { RedisTransportConnections } from './redis-transport.connections.js';
import type {
  RedisTransportConnectionRole,
  RedisTransportEvents,
  RedisTransportStatus,
} from './redis-transport.events.js';
import { CLIENT_CLOSED, MALFORMED_MESSAGE, SEND_TIMED_OUT } from './redis-transport.messages.js';
import type { RedisTransportOptions } from './redis-transport-options.interface.js';
import { type ResolvedTransportOptions, resolveTransportOptions } from './resolve-transport-options.js';
import { RedisStreamsClient } from './streams/redis-streams.client.js';

interface Session {
  connections: RedisTransportConnections;
  pubsub: RedisPubSubClient;
  streams: RedisStreamsClient;
}

/**
 * A `ClientProxy` for {@link RedisTransportServer}, and for Nest's built-in Redis transport: `send()` (with a
 * default timeout) and `emit()` over pub/sub, or `emit()` into a Redis Stream in `'streams'` mode (resolving with
 * the entry id once Redis confirmed it). Reconnects forever with backoff.
 *
 * @example
 * ```ts
 * ClientsModule.register([
 *   { name: 'BOOKING_EVENTS', customClass: RedisTransportClient, options: { url: 'redis://127.0.0.1:6379', mode: 'streams' } },
 * ])
 * ```
 */
export class RedisTransportClient extends ClientProxy<RedisTransportEvents, string> {
  readonly options: ResolvedTransportOptions;
  private readonly logger = new Logger(RedisTransportClient.name);
  private readonly malformed = new RateLimitedLog(this.logger);
  private readonly pendingPatterns = new Map<string, string>();
  private readonly listeners: Array<[keyof RedisTransportEvents, RedisTransportEvents[keyof RedisTransportEvents]]> =
    [];
  private session?: Session;
  private connecting?: Promise<Session>;

  /**
   * @param options connection options (as `RedisModule.forRoot` takes them) or `moduleOptions`, plus the
   *   transport's own options; validated here
   * @throws RedisOptionsError naming the offending field
   */
  constructor(options: RedisTransportOptions = {}) {
    super();
    this.options = resolveTransportOptions(options, 'client');
    this.initializeSerializer(this.options);
    this.initializeDeserializer(this.options);
  }

  /**
   * Connection status changes: `connected`, `reconnecting`, `disconnected`. (The base type's status is `string`, so
   * that `customClass: RedisTransportClient` type-checks against `Type<ClientProxy>`; this getter narrows it.)
   */
  override get status(): Observable<RedisTransportStatus> {
    return super.status as Observable<RedisTransportStatus>;
  }

  /** Connects (once); rejects when Redis is not ready within `connectTimeout`, and the next call tries again. */
  async connect(): Promise<void> {
    await this.ensureSession();
  }

  /** Fails the requests still waiting with `RedisTransportClosedError`, then closes the connections. */
  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    this.session = undefined;
    const callbacks = [...this.routingMap.entries()];
    this.routingMap.clear();
    for (const [id, callback] of callbacks) {
      const pattern = this.pendingPatterns.get(id) ?? '?';
      callback({ err: new RedisTransportClosedError(CLIENT_CLOSED(pattern), pattern) });
    }
    this.pendingPatterns.clear();
    const session = await pending?.catch(() => undefined);
    await session?.connections.closeAll();
  }

  /**
   * Sends a request and emits its reply (or replies, for an observable handler). Fails with
   * `RedisTransportTimeoutError` when no reply comes within `sendTimeout`, and with the handler's error (an
   * `RpcException`'s payload) when it throws.
   */
  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return super.send<TResult, TInput>(pattern, data);
    }
    // One Observable and one timer per request instead of the base class' defer/mergeMap chain plus a timeout
    // operator: this path runs for every request, and its overhead shows at high rates.
    return new Observable<TResult>((observer) => {
      const name = this.normalizePattern(pattern as string);
      const ms = this.options.sendTimeout;
      const deliver = this.createObserver(observer);
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          forget();
          observer.error(new RedisTransportTimeoutError(SEND_TIMED_OUT(name, ms), name, ms));
        }, ms);
      };
      arm();
      const forget = this.publish(this.createPacket(pattern, data), (packet: WritePacket) => {
        if (packet.isDisposed || packet.err) clearTimeout(timer);
        else arm();
        deliver(packet);
      });
      return () => {
        clearTimeout(timer);
        forget();
      };
    });
  }

  /** Registers a listener for an event of the underlying ioredis connections (current and future). */
  override on<K extends keyof RedisTransportEvents>(event: K, callback: RedisTransportEvents[K]): void {
    this.listeners.push([event, callback]);
    this.session?.connections.on(event, callback);
  }

  /** The ioredis connections by role (`pub`, `sub`). */
  unwrap<T = ReadonlyMap<RedisTransportConnectionRole, RedisClient>>(): T {
    if (!this.session) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.session.connections.all as T;
  }

  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const packet = this.assignPacketId(partial);
    const pattern = this.normalizePattern(partial.pattern);
    this.routingMap.set(packet.id, callback);
    this.pendingPatterns.set(packet.id, pattern);
    const forget = () => {
      this.routingMap.delete(packet.id);
      this.pendingPatterns.delete(packet.id);
    };
    const fail = (err: unknown) => {
      if (!this.routingMap.has(packet.id)) return;
      forget();
      callback({ err });
    };
    const serialized = this.serializer.serialize(packet) as
      (ReadPacket & { id: string }) | Promise<ReadPacket & { id: string }>;
    if (this.session && !(serialized instanceof Promise)) {
      // Connected, synchronous serializer: no extra promise hops on the hot path.
      this.session.pubsub.request(pattern, serialized).catch(fail);
    } else {
      void (async () => {
        const session = await this.ensureSession();
        await session.pubsub.request(pattern, await serialized);
      })().catch(fail);
    }
    return forget;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const session = await this.ensureSession();
    const pattern = this.normalizePattern(packet.pattern);
    const serialized = (await this.serializer.serialize(packet)) as ReadPacket;
    if (this.options.mode === 'streams') return (await session.streams.event(pattern, serialized)) as T;
    await session.pubsub.event(pattern, serialized);
    return undefined as T;
  }

  private ensureSession(): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    this.connecting ??= this.openSession().then(
      (session) => {
        this.session = session;
        return session;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    return this.connecting;
  }

  private async openSession(): Promise<Session> {
    const connections = new RedisTransportConnections(this.options, 'client', this._status$, this.logger);
    for (const [event, callback] of this.listeners) connections.on(event, callback);
    const pub = connections.open('pub', { autoPipelining: true });
    const sub = connections.open('sub', { blocking: true });
    try {
      await connections.connectAll();
      const pubsub = new RedisPubSubClient(this.options, pub, sub);
      await pubsub.listen((raw) => void this.onReply(raw));
      return { connections, pubsub, streams: new RedisStreamsClient(this.options, pub) };
    } catch (error) {
      await connections.closeAll();
      throw error;
    }
  }

  private async onReply(raw: string): Promise<void> {
    let packet: WritePacket & { id?: string };
    try {
      packet = (await this.deserializer.deserialize(this.options.codec.decode(raw))) as WritePacket & { id?: string };
    } catch (error) {
      this.malformed.warn(MALFORMED_MESSAGE('a reply channel', errorText(error)));
      return;
    }
    const callback = packet.id === undefined ? undefined : this.routingMap.get(packet.id);
    if (!callback) return;
    const { err, response, isDisposed } = packet;
    if (isDisposed || err) {
      this.pendingPatterns.delete(packet.id!);
      return callback({ err, response, isDisposed: true });
    }
    callback({ err, response });
  }
}
