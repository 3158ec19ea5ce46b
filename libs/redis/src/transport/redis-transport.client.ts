import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { Observable, Subject } from 'rxjs';
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
import type { CommandTicket } from './connection-gate.js';
import { DeadlineQueue, type Expirable } from './deadline-queue.js';
import {
  CLIENT_CLOSED,
  CLIENT_CLOSED_DURING_EMIT,
  EMIT_TIMED_OUT,
  MALFORMED_MESSAGE,
  SEND_TIMED_OUT,
  SUBSCRIBE_TIMED_OUT,
} from './redis-transport.messages.js';
import type { RedisTransportOptions } from './redis-transport-options.interface.js';
import { type ResolvedTransportOptions, resolveTransportOptions } from './resolve-transport-options.js';
import { RedisStreamsClient } from './streams/redis-streams.client.js';
import { settleWithin } from '../utils/settle-within.js';

interface Session {
  connections: RedisTransportConnections;
  pubsub: RedisPubSubClient;
  streams: RedisStreamsClient;
}

/** A `send()` waiting for its reply (or replies). */
interface PendingRequest extends Expirable, CommandTicket {
  readonly id: string;
  readonly pattern: string;
  readonly reply: (packet: WritePacket) => void;
}

/** An `emit()` waiting for Redis to confirm it. */
interface PendingEmit extends Expirable, CommandTicket {
  readonly pattern: string;
  readonly fail: (error: unknown) => void;
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
  private readonly requests = new Map<string, PendingRequest>();
  private readonly sendDeadlines: DeadlineQueue<PendingRequest>;
  private readonly emitDeadlines: DeadlineQueue<PendingEmit>;
  /** Packet ids: a random prefix per client and a counter, unique among the clients sharing a reply channel. */
  private readonly idPrefix = randomBytes(9).toString('base64url');
  private nextId = 0;
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
    this.sendDeadlines = new DeadlineQueue(this.options.sendTimeout);
    this.emitDeadlines = new DeadlineQueue(this.options.emitTimeout);
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

  /**
   * Fails the requests still waiting for a reply and the emits Redis has not confirmed yet with
   * `RedisTransportClosedError`, then closes the connections.
   */
  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    this.session = undefined;
    const requests = [...this.requests.values()];
    this.requests.clear();
    this.sendDeadlines.takeAll();
    for (const request of requests) {
      request.abandoned = true;
      request.reply({ err: new RedisTransportClosedError(CLIENT_CLOSED(request.pattern), request.pattern) });
    }
    for (const emit of this.emitDeadlines.takeAll()) {
      emit.fail(new RedisTransportClosedError(CLIENT_CLOSED_DURING_EMIT(emit.pattern), emit.pattern));
    }
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
    // One Observable per request instead of the base class' defer/mergeMap chain plus a timeout operator, and one
    // shared deadline queue instead of a timer per request: this path runs for every request.
    return new Observable<TResult>((observer) => {
      const name = this.normalizePattern(pattern as string);
      const deliver = this.createObserver(observer);
      const packet = this.createPacket(pattern, data) as ReadPacket & { id: string };
      const id = (packet.id = this.nextPacketId());
      const ms = this.options.sendTimeout;
      const request: PendingRequest = {
        id,
        pattern: name,
        deadline: 0,
        abandoned: false,
        expire: () => {
          this.forget(request);
          observer.error(new RedisTransportTimeoutError(SEND_TIMED_OUT(name, ms), name, ms));
        },
        reply: (reply: WritePacket) => {
          if (reply.isDisposed || reply.err) this.forget(request);
          else this.sendDeadlines.restart(request);
          deliver(reply);
        },
      };
      this.requests.set(id, request);
      this.sendDeadlines.add(request);
      this.dispatchRequest(name, packet, request);
      return () => this.forget(request);
    });
  }

  /**
   * Emits an event: published (pub/sub mode) or appended to the pattern's stream (streams mode) at once, whether or
   * not the observable is subscribed. The observable emits once Redis confirmed the write (the stream entry id in
   * streams mode), or fails: `RedisTransportTimeoutError` after `emitTimeout` (outcome unknown: the event may still
   * have been stored), `RedisTransportPayloadTooLargeError`, or `RedisTransportClosedError`.
   */
  override emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return super.emit<TResult, TInput>(pattern, data);
    }
    // Hot like the base class' emit (a connected Subject), without its defer/mergeMap/connectable chain.
    const result = new Subject<TResult>();
    const name = this.normalizePattern(pattern as string);
    const ms = this.options.emitTimeout;
    let settled = false;
    const emit: PendingEmit = {
      pattern: name,
      deadline: 0,
      abandoned: false,
      expire: () => emit.fail(new RedisTransportTimeoutError(EMIT_TIMED_OUT(name, ms), name, ms)),
      fail: (error: unknown) => {
        emit.abandoned = true;
        if (settled) return;
        settled = true;
        this.emitDeadlines.delete(emit);
        result.error(error);
      },
    };
    this.emitDeadlines.add(emit);
    let dispatched: Promise<unknown>;
    try {
      dispatched = this.dispatchEventFor(name, this.createPacket(pattern, data), emit);
    } catch (error) {
      dispatched = Promise.reject(error);
    }
    dispatched.then((value) => {
      if (settled) return;
      settled = true;
      this.emitDeadlines.delete(emit);
      result.next(value as TResult);
      result.complete();
    }, emit.fail);
    return result.asObservable();
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

  /** The base class' request path (only reached by `super.send` with invalid arguments); no deadline. */
  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const name = this.normalizePattern(partial.pattern);
    const packet = partial as ReadPacket & { id: string };
    const request: PendingRequest = {
      id: (packet.id = this.nextPacketId()),
      pattern: name,
      deadline: 0,
      abandoned: false,
      expire: () => undefined,
      reply: (reply: WritePacket) => {
        if (reply.isDisposed || reply.err) this.forget(request);
        callback(reply);
      },
    };
    this.requests.set(request.id, request);
    this.dispatchRequest(name, packet, request);
    return () => this.forget(request);
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    return (await this.dispatchEventFor(this.normalizePattern(packet.pattern), packet)) as T;
  }

  private nextPacketId(): string {
    return this.idPrefix + (this.nextId++).toString(36);
  }

  private forget(request: PendingRequest): void {
    request.abandoned = true;
    this.sendDeadlines.delete(request);
    this.requests.delete(request.id);
  }

  private dispatchRequest(pattern: string, packet: ReadPacket & { id: string }, request: PendingRequest): void {
    const fail = (err: unknown) => {
      if (!this.requests.has(request.id)) return;
      request.reply({ err, isDisposed: true });
    };
    let serialized: (ReadPacket & { id: string }) | Promise<ReadPacket & { id: string }>;
    try {
      serialized = this.serializer.serialize(packet) as typeof serialized;
      if (this.session && !(serialized instanceof Promise)) {
        // Connected, synchronous serializer: no extra promise hops on the hot path.
        this.session.pubsub.request(pattern, serialized, request, serialized === packet).catch(fail);
        return;
      }
    } catch (error) {
      return fail(error);
    }
    void (async () => {
      const session = await this.ensureSession();
      if (request.abandoned) return;
      await session.pubsub.request(pattern, await serialized, request);
    })().catch(fail);
  }

  private dispatchEventFor(pattern: string, packet: ReadPacket, ticket?: CommandTicket): Promise<unknown> {
    const serialized = this.serializer.serialize(packet) as ReadPacket | Promise<ReadPacket>;
    if (this.session && !(serialized instanceof Promise))
      return this.sendEvent(this.session, pattern, serialized, ticket);
    return (async () => {
      const session = await this.ensureSession();
      if (ticket?.abandoned) return undefined;
      return this.sendEvent(session, pattern, await serialized, ticket);
    })();
  }

  /** Not `async`: returning the command's own promise spares each emit the ticks of wrapping it in another. */
  private sendEvent(
    session: Session,
    pattern: string,
    packet: ReadPacket,
    ticket: CommandTicket | undefined,
  ): Promise<unknown> {
    if (this.options.mode === 'streams') return session.streams.event(pattern, packet, ticket);
    return session.pubsub.event(pattern, packet, ticket).then(toUndefined);
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
      // The subscriber waits for Redis forever (it must, to resubscribe after an outage): bound the first SUBSCRIBE
      // so that a Redis lost right after connecting fails this connect() instead of hanging it.
      await settleWithin(
        pubsub.listen((raw) => this.onReply(raw)),
        this.options.connection.connectTimeout,
        () => new Error(SUBSCRIBE_TIMED_OUT(this.options.connection.connectTimeout)),
      );
      return { connections, pubsub, streams: new RedisStreamsClient(this.options, pub) };
    } catch (error) {
      await connections.closeAll();
      throw error;
    }
  }

  private onReply(raw: string): void {
    let decoded: unknown;
    try {
      decoded = this.deserializer.deserialize(this.options.codec.decode(raw));
    } catch (error) {
      this.malformed.warn(MALFORMED_MESSAGE('a reply channel', errorText(error)));
      return;
    }
    // The default deserializer is synchronous: route the reply without a promise hop.
    if (!(decoded instanceof Promise)) return this.route(decoded as WritePacket & { id?: string });
    decoded.then(
      (packet: WritePacket & { id?: string }) => this.route(packet),
      (error: unknown) => this.malformed.warn(MALFORMED_MESSAGE('a reply channel', errorText(error))),
    );
  }

  private route(packet: WritePacket & { id?: string }): void {
    const request = packet?.id === undefined ? undefined : this.requests.get(packet.id);
    if (!request) return;
    const { err, response, isDisposed } = packet;
    request.reply(isDisposed || err ? { err, response, isDisposed: true } : { err, response });
  }
}

function toUndefined(): undefined {
  return undefined;
}
