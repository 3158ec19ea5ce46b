// A few lines over ~300 on purpose: the client is Nest's ClientProxy surface (connect, close, publish, dispatchEvent,
// on, unwrap, status) in one class, as users meet it; sessions, reply routing and pending requests live beside it.
import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { Observable, Subject } from 'rxjs';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { RedisTransportClosedError } from '../../errors/redis-transport-closed.error.js';
import { RedisTransportTimeoutError } from '../../errors/redis-transport-timeout.error.js';
import type { RedisTransportClients, RedisTransportEvents, RedisTransportStatus } from '../redis-transport.events.js';
import type { CommandTicket } from '../../connection/connection-gate.js';
import type { TransportSpanEnd, TransportSpanInfo } from '../../instrumentation/redis-transport.tracer.js';
import { DeadlineQueue } from '../../connection/command-deadlines.js';
import { CLIENT_CLOSED, CLIENT_CLOSED_DURING_EMIT, EMIT_TIMED_OUT } from '../redis-transport.messages.js';
import type { RedisTransportMode, RedisTransportOptions } from '../options/redis-transport-options.interface.js';
import { type ResolvedTransportOptions, resolveTransportOptions } from '../options/resolve-transport-options.js';
import {
  type ClientConnectionListener,
  type ClientSession,
  openClientSession,
  sendSessionEvent,
  sessionState,
} from './client.session.js';
import { notConnectedError, type PendingEmit, type PendingRequest, sendTimeoutError } from './pending-request.js';
import { ReplyRouter } from './reply.router.js';

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
  private readonly options: ResolvedTransportOptions;
  private readonly logger = new Logger(RedisTransportClient.name);
  private readonly requests = new Map<string, PendingRequest>();
  private readonly sendDeadlines: DeadlineQueue<PendingRequest>;
  private readonly emitDeadlines: DeadlineQueue<PendingEmit>;
  /** Packet ids: a random prefix per client and a counter, unique among the clients sharing a reply channel. */
  private readonly idPrefix = randomBytes(9).toString('base64url');
  private nextId = 0;
  private readonly listeners: ClientConnectionListener[] = [];
  private readonly replies: ReplyRouter;
  private session?: ClientSession;
  private connecting?: Promise<ClientSession>;

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
    this.replies = new ReplyRouter(this.options, this.requests, () => this.deserializer, this.logger);
  }

  /** `'pubsub'` or `'streams'`: where `emit()` writes events. */
  get mode(): RedisTransportMode {
    return this.options.mode;
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
      const packet = this.packetFor(pattern, data) as ReadPacket & { id: string };
      const id = (packet.id = this.nextPacketId());
      const ms = this.options.sendTimeout;
      const span = this.traced({ operation: 'send', pattern: name, mode: 'pubsub', messageId: id }, packet);
      const request: PendingRequest = {
        id,
        pattern: name,
        sent: false,
        deadline: 0,
        abandoned: false,
        expire: () => {
          this.forget(request);
          const error = sendTimeoutError(request, ms, sessionState(this.session), this.options);
          span?.({ error });
          observer.error(error);
        },
        reply: (reply: WritePacket) => {
          if (reply.isDisposed || reply.err) {
            this.forget(request);
            span?.({ error: reply.err ?? undefined });
          } else this.sendDeadlines.restart(request);
          deliver(reply);
        },
      };
      this.requests.set(id, request);
      this.sendDeadlines.add(request);
      this.dispatchRequest(name, packet, request);
      return () => {
        this.forget(request);
        span?.();
      };
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
    let span: TransportSpanEnd | undefined;
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
        span?.({ error });
        result.error(error);
      },
    };
    this.emitDeadlines.add(emit);
    let dispatched: Promise<unknown>;
    try {
      const packet = this.packetFor(pattern, data);
      span = this.traced({ operation: 'emit', pattern: name, mode: this.options.mode }, packet);
      dispatched = this.dispatchEventFor(name, packet, emit);
    } catch (error) {
      dispatched = Promise.reject(error);
    }
    dispatched.then((value) => {
      if (settled) return;
      settled = true;
      this.emitDeadlines.delete(emit);
      span?.({ messageId: typeof value === 'string' ? value : undefined });
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

  /** The ioredis connections, `[pub, sub]` as the built-in client's, with `get(role)`. */
  unwrap<T = RedisTransportClients<RedisClient>>(): T {
    if (!this.session) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.session.connections.unwrapped() as T;
  }

  /** The base class' request path (only reached by `super.send` with invalid arguments); no deadline. */
  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const name = this.normalizePattern(partial.pattern);
    const packet = partial as ReadPacket & { id: string };
    const request: PendingRequest = {
      id: (packet.id = this.nextPacketId()),
      pattern: name,
      sent: false,
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

  /**
   * The outgoing packet. Nest 12 builds it with `createPacket`, which runs the `setOnDispatchHook` hook (metadata);
   * Nest 11's ClientProxy has neither and sends the plain `{ pattern, data }`.
   */
  private packetFor(pattern: unknown, data: unknown): ReadPacket {
    const create = (this as unknown as { createPacket?: (pattern: unknown, data: unknown) => ReadPacket }).createPacket;
    return create ? create.call(this, pattern, data) : { pattern, data };
  }

  /**
   * Starts the span of a send or emit when the app traces (`RedisTracingModule` installed a tracer on the
   * instrumentation) and adds its trace context to the packet's `metadata`.
   * @returns the function that ends the span once; `undefined` when nothing traces
   */
  private traced(info: TransportSpanInfo, packet: ReadPacket): TransportSpanEnd | undefined {
    const tracer = this.options.instrumentation?.transportTracer;
    if (tracer === undefined) return undefined;
    const carrier: Record<string, string> = {};
    const end = tracer.startProducer(info, carrier);
    if (Object.keys(carrier).length > 0) {
      const withMetadata = packet as ReadPacket & { metadata?: Record<string, string> };
      withMetadata.metadata = { ...withMetadata.metadata, ...carrier };
    }
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      end(outcome);
    };
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
    const sent = () => {
      request.sent = true;
    };
    let serialized: (ReadPacket & { id: string }) | Promise<ReadPacket & { id: string }>;
    try {
      serialized = this.serializer.serialize(packet) as typeof serialized;
      if (this.session && !(serialized instanceof Promise)) {
        // Connected, synchronous serializer: no extra promise hops on the hot path.
        this.session.pubsub.request(pattern, serialized, request, serialized === packet).then(sent, fail);
        return;
      }
    } catch (error) {
      return fail(error);
    }
    void (async () => {
      let session: ClientSession;
      try {
        session = await this.ensureSession();
      } catch (error) {
        throw notConnectedError(pattern, error, this.options);
      }
      if (request.abandoned) return;
      await session.pubsub.request(pattern, await serialized, request);
      sent();
    })().catch(fail);
  }

  private dispatchEventFor(pattern: string, packet: ReadPacket, ticket?: CommandTicket): Promise<unknown> {
    const serialized = this.serializer.serialize(packet) as ReadPacket | Promise<ReadPacket>;
    if (this.session && !(serialized instanceof Promise))
      return sendSessionEvent(this.session, this.options.mode, pattern, serialized, ticket);
    return (async () => {
      const session = await this.ensureSession();
      if (ticket?.abandoned) return undefined;
      return sendSessionEvent(session, this.options.mode, pattern, await serialized, ticket);
    })();
  }

  private ensureSession(): Promise<ClientSession> {
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

  private openSession(): Promise<ClientSession> {
    return openClientSession(this.options, this._status$, this.logger, this.listeners, (raw) =>
      this.replies.onReply(raw),
    );
  }
}
