// A few lines over ~300 on purpose: the server is Nest's Server surface (listen, close, on, unwrap, status, the
// factory for the app) in one class; handler calls, processing hooks and the shutdown drain live beside it.
import { type INestApplicationContext, Logger } from '@nestjs/common';
import {
  type BaseRpcContext,
  type CustomTransportStrategy,
  type MessageHandler,
  type ReadPacket,
  Server,
  Transport,
  type WritePacket,
} from '@nestjs/microservices';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { RedisInstrumentation } from '../../instrumentation/redis-instrumentation.js';
import { REDIS_RESOLVED_OPTIONS } from '../../redis.constants.js';
import type { ResolvedRedisCoreOptions } from '../../connection/resolved-redis-connection.interface.js';
import { RedisPubSubContext } from '../pubsub/redis-pubsub.context.js';
import { RedisPubSubServer } from '../pubsub/redis-pubsub.server.js';
import { RedisTransportConnections } from '../redis-transport.connections.js';
import type { RedisTransportClients, RedisTransportEvents, RedisTransportStatus } from '../redis-transport.events.js';
import { NO_EVENT_HANDLER } from '../redis-transport.messages.js';
import type { RedisTransportMode, RedisTransportOptions } from '../options/redis-transport-options.interface.js';
import type { RedisTransportServerHost } from './redis-transport-server.host.js';
import { type ResolvedTransportOptions, resolveTransportOptions } from '../options/resolve-transport-options.js';
import { RedisStreamKeys } from '../streams/redis-stream-keys.js';
import { RedisStreamsServer } from '../streams/redis-streams.server.js';
import { readStreamsInfo, type RedisStreamInfo } from '../streams/redis-streams.info.js';
import { callEvent, callRequest, type RequestCallHost } from './handler.calls.js';
import { handlerSpanInfo } from './handler.span.js';
import { InFlightWork } from './in-flight.work.js';
import { type ProcessingHooksHost, runWithinProcessingHooks } from './processing-hooks.js';
import type { ConsumerLagRegistry, RedisTransportModuleOptions } from './redis-transport-server.options.js';

const NO_END_HOOK = (): void => undefined;

/**
 * A Nest microservice transport over Redis. In `'pubsub'` mode (default) it speaks the wire format of Nest's
 * `Transport.REDIS`, so it can replace it one service at a time; in `'streams'` mode `@EventPattern` handlers read
 * Redis Streams through a consumer group (at-least-once, retries, dead-letter stream) while `@MessagePattern`
 * handlers still answer over pub/sub.
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * app.connectMicroservice({
 *   strategy: RedisTransportServer.fromApp(app, { mode: 'streams', streams: { group: 'booking-worker' } }),
 * });
 * await app.startAllMicroservices();
 * ```
 * @example
 * ```ts
 * const app = await NestFactory.createMicroservice(WorkerModule, {
 *   strategy: new RedisTransportServer({ url: 'redis://127.0.0.1:6379' }),
 * });
 * ```
 */
export class RedisTransportServer
  extends Server<RedisTransportEvents, RedisTransportStatus>
  implements CustomTransportStrategy
{
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RedisTransportServer.name);
  private readonly options: ResolvedTransportOptions;
  /** What the pub/sub and streams halves call back into: internal, so none of it is on the public surface. */
  private readonly host: RedisTransportServerHost;
  private readonly connections: RedisTransportConnections;
  /** Handler runs (and their acks) not finished yet; shutdown waits for them. */
  private readonly inFlight = new InFlightWork(this.logger);
  private readonly defaultStartHook = this.onProcessingStartHook;
  private readonly keys: RedisStreamKeys;
  private pubsub?: RedisPubSubServer;
  private streams?: RedisStreamsServer;
  private closed?: Promise<void>;
  private isClosing = false;
  private removeLagSource?: () => void;
  /** Cancels each request handler's reply stream still running; `close()` cuts them instead of draining them. */
  private readonly replyStreams = new Set<() => void>();
  private readonly requestCalls: RequestCallHost = {
    send: (stream$, respond) => this.send(stream$, respond),
    logger: this.logger,
    replyStreams: this.replyStreams,
  };

  /**
   * @param options connection options (as `RedisModule.forRoot` takes them) or `moduleOptions`, plus the
   *   transport's own options; validated here
   * @throws RedisOptionsError naming the offending field
   */
  constructor(options: RedisTransportOptions = {}) {
    super();
    this.options = resolveTransportOptions(options, 'server');
    this.transportId = Transport.REDIS;
    this.initializeSerializer(this.options);
    this.initializeDeserializer(this.options);
    this.connections = new RedisTransportConnections(this.options, 'server', this._status$, this.logger);
    this.keys = new RedisStreamKeys(this.options.keyPrefix);
    this.host = this.hostForHalves();
  }

  /**
   * A server on the connection (and `keyPrefix`) of the application's `RedisModule`.
   *
   * @param app the application (or application context) that imported `RedisModule.forRoot`
   * @param options transport options; `connectionName` picks a named connection of the module
   */
  static fromApp(app: INestApplicationContext, options: RedisTransportModuleOptions = {}): RedisTransportServer {
    const moduleOptions = app.get<ResolvedRedisCoreOptions>(REDIS_RESOLVED_OPTIONS, { strict: false });
    let instrumentation: RedisInstrumentation | undefined;
    try {
      instrumentation = app.get(RedisInstrumentation, { strict: false });
    } catch {
      instrumentation = undefined;
    }
    const server = new RedisTransportServer({ instrumentation, ...options, moduleOptions });
    // The metrics entry point, if the app uses it, reads the lag from the instrumentation hub at every scrape.
    if (instrumentation) server.reportConsumerLagTo(instrumentation);
    return server;
  }

  /** `'pubsub'` or `'streams'`: how `@EventPattern` handlers receive events. */
  get mode(): RedisTransportMode {
    return this.options.mode;
  }

  /** Redis key of the stream an event pattern is read from (streams mode). */
  streamKey(pattern: string): string {
    return this.keys.stream(pattern);
  }

  /** Redis key of the dead-letter stream of an event pattern (streams mode). */
  deadLetterKey(pattern: string): string {
    return this.keys.deadLetter(pattern);
  }

  /**
   * Pending entries, dead letters and lag of each stream the server consumes, for its consumer group (streams mode,
   * once listening; empty otherwise). Read on the server's command connection.
   *
   * @throws Error when that connection is not ready, rather than waiting for it to reconnect
   */
  async streamsInfo(): Promise<RedisStreamInfo[]> {
    const pub = this.connections.all.get('pub');
    if (!this.streams || !pub) return [];
    if (pub.status !== 'ready') throw new Error(`the transport's Redis connection is not ready (${pub.status})`);
    return readStreamsInfo(pub, this.streams.patterns, this.options.streams.group!, this.keys);
  }

  /**
   * Reports the consumer lag of the streams the server reads (label `stream` is the event pattern) to `registry`,
   * read at every scrape, until `close()`. `fromApp` does it with the module's `RedisInstrumentation`, which
   * `RedisMetricsModule` reads.
   *
   * @param registry `RedisInstrumentation`, `RedisMetricsService`, or anything with `addConsumerLagSource`
   */
  reportConsumerLagTo(registry: ConsumerLagRegistry): void {
    this.removeLagSource?.();
    this.removeLagSource = registry.addConsumerLagSource(async () =>
      (await this.streamsInfo()).flatMap(({ pattern, group, lag }) =>
        lag === null ? [] : [{ stream: pattern, group, lag }],
      ),
    );
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // Undo a partial start (subscriptions, consumers already reading) before reporting the failure.
      await this.close().catch(() => undefined);
      return callback(error);
    }
    callback();
  }

  /**
   * Graceful shutdown: stops reading (unsubscribes, stops the stream consumers), cuts the reply streams of request
   * handlers still emitting (each caller gets a final error saying the server closed), waits up to `shutdownTimeout`
   * for the rest of the work in flight (handlers, event handlers, acks), then closes the connections.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** Registers a listener for an event of the underlying ioredis connections. */
  on<K extends keyof RedisTransportEvents>(event: K, callback: RedisTransportEvents[K]): void {
    this.connections.on(event, callback);
  }

  /**
   * The ioredis connections, `[pub, sub, …stream readers]` as the built-in server's `[pub, sub]`, with `get(role)`
   * (`'pub'`, `'sub'`, `'stream:<pattern>'`).
   */
  unwrap<T = RedisTransportClients<RedisClient>>(): T {
    if (this.connections.all.size === 0) {
      throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method first.');
    }
    return this.connections.unwrapped() as T;
  }

  /** The host the pub/sub and streams halves run on: this server's handlers, codec, hooks, tracing and drain. */
  private hostForHalves(): RedisTransportServerHost {
    const isClosing = () => this.isClosing;
    return {
      options: this.options,
      log: this.logger,
      get closing() {
        return isClosing();
      },
      handlerFor: (pattern) => this.handlerFor(pattern),
      deserialize: (value, channel) =>
        this.deserializer.deserialize(value, { channel }) as ReadPacket & { id?: string },
      serializeResponse: (packet) => this.serializer.serialize(packet),
      runEvent: (pattern, packet, context) => this.runEvent(pattern, packet, context),
      runRequest: (context, handler, packet, respond) => this.runRequest(context, handler, packet, respond),
      report: (pattern, startedAt, outcome) => this.report(pattern, startedAt, outcome),
      track: (work) => this.inFlight.track(work),
    };
  }

  private handlerFor(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? null;
  }

  private runEvent(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
    const tracer = this.options.instrumentation?.transportTracer;
    if (tracer === undefined) return this.runEventHandler(pattern, packet, context);
    const info = handlerSpanInfo(pattern, context, false, undefined);
    return tracer.runHandler(info, metadataOf(packet), () => this.runEventHandler(pattern, packet, context));
  }

  private runRequest(
    context: BaseRpcContext,
    handler: MessageHandler,
    packet: ReadPacket,
    respond: (packet: WritePacket) => Promise<unknown>,
  ): Promise<void> {
    const tracer = this.options.instrumentation?.transportTracer;
    if (tracer === undefined) return this.runRequestHandler(context, handler, packet, respond);
    const pattern =
      context instanceof RedisPubSubContext ? context.getPattern() : this.normalizePattern(packet.pattern);
    const info = handlerSpanInfo(pattern, context, true, (packet as { id?: string }).id);
    return tracer.runHandler(info, metadataOf(packet), (fail) =>
      this.runRequestHandler(context, handler, packet, (response) => {
        if (response.err !== undefined && response.err !== null) fail(response.err);
        return respond(response);
      }),
    );
  }

  private runEventHandler(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
    const handler = this.handlerFor(pattern);
    if (!handler) {
      this.logger.warn(NO_EVENT_HANDLER(pattern));
      return Promise.resolve();
    }
    if (!this.hooked) return callEvent(handler, packet, context);
    return new Promise<void>((resolve, reject) => {
      this.withProcessingHooks(context, async (runEndHook) => {
        try {
          await callEvent(handler, packet, context);
          resolve();
        } catch (error) {
          reject(error);
        } finally {
          runEndHook();
        }
      });
    });
  }

  private runRequestHandler(
    context: BaseRpcContext,
    handler: MessageHandler,
    packet: ReadPacket,
    respond: (packet: WritePacket) => Promise<unknown>,
  ): Promise<void> {
    if (!this.hooked) return callRequest(this.requestCalls, context, handler, packet, respond, NO_END_HOOK);
    return new Promise<void>((resolve) => {
      this.withProcessingHooks(context, async (runEndHook) => {
        try {
          await callRequest(this.requestCalls, context, handler, packet, respond, runEndHook);
        } finally {
          resolve();
        }
      });
    });
  }

  private report(pattern: string, startedAt: number, outcome: 'ok' | 'failed' | 'dead-lettered'): void {
    this.options.instrumentation?.emit('transport.handled', {
      pattern,
      mode: this.options.mode,
      durationMs: performance.now() - startedAt,
      outcome,
    });
  }

  /**
   * Whether processing hooks (Nest's tracing entry points) are set: without them a handler is called directly,
   * sparing each message the hooks' async wrapper.
   */
  private get hooked(): boolean {
    return this.onProcessingStartHook !== this.defaultStartHook || this.onProcessingEndHook !== undefined;
  }

  /** Runs `fn` between Nest's processing start and end hooks (protected members of `Server`, hence the cast). */
  private withProcessingHooks(context: BaseRpcContext, fn: (runEndHook: () => void) => Promise<void>): void {
    runWithinProcessingHooks(this as unknown as ProcessingHooksHost, context, fn);
  }

  private async start(): Promise<void> {
    const pub = this.connections.open('pub', { autoPipelining: true });
    const sub = this.connections.open('sub', {
      blocking: true,
      shardedSubscriptions: this.options.shardedPubSub,
    });
    await this.connections.connectAll();
    const events: string[] = [];
    const requests: string[] = [];
    for (const [pattern, handler] of this.messageHandlers) (handler.isEventHandler ? events : requests).push(pattern);

    const streamsMode = this.options.mode === 'streams';
    this.pubsub = new RedisPubSubServer(this.host, pub, sub);
    await this.pubsub.listen(streamsMode ? requests : [...events, ...requests]);
    if (streamsMode) {
      this.streams = new RedisStreamsServer(this.host, pub, async (pattern) => {
        const role = `stream:${pattern}` as const;
        const reader = this.connections.open(role, { blocking: true });
        await this.connections.connect(role);
        return reader;
      });
      await this.streams.listen(events);
    }
    this.options.instrumentation?.emit('transport.listening', {
      mode: this.options.mode,
      patterns: [...events, ...requests],
    });
  }

  private async shutdown(): Promise<void> {
    this.isClosing = true;
    this.removeLagSource?.();
    await Promise.all([this.pubsub?.stop(), this.streams?.stop()]);
    // A reply stream may never complete (a subscription to live updates): it is cut here, its caller told so, rather
    // than waited for. Handlers that return a value or a promise, event handlers and acks are drained.
    for (const cancel of [...this.replyStreams]) cancel();
    await this.inFlight.drain(this.options.shutdownTimeout);
    await this.connections.closeAll();
  }
}

/** The trace context (and any other metadata) a packet carries, when it is a string map. */
function metadataOf(packet: ReadPacket): Readonly<Record<string, string>> | undefined {
  const metadata = (packet as { metadata?: unknown }).metadata;
  return metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, string>) : undefined;
}
