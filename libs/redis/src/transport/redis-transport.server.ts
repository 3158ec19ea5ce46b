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
import { finalize, isObservable, lastValueFrom } from 'rxjs';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import type { ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import { RedisPubSubServer } from './pubsub/redis-pubsub.server.js';
import { RedisTransportConnections } from './redis-transport.connections.js';
import type {
  RedisTransportConnectionRole,
  RedisTransportEvents,
  RedisTransportStatus,
} from './redis-transport.events.js';
import { NO_EVENT_HANDLER, SHUTDOWN_TIMED_OUT } from './redis-transport.messages.js';
import type { RedisTransportOptions } from './redis-transport-options.interface.js';
import type { RedisTransportServerHost } from './redis-transport-server.host.js';
import { type ResolvedTransportOptions, resolveTransportOptions } from './resolve-transport-options.js';
import { RedisStreamKeys } from './streams/redis-stream-keys.js';
import { RedisStreamsServer } from './streams/redis-streams.server.js';
import { readStreamInfo, type RedisStreamInfo } from './streams/redis-streams.info.js';

/**
 * Where a server reports the consumer lag of its streams, read at every scrape: the module's `RedisInstrumentation`
 * (which the metrics entry point reads) or `RedisMetricsService` itself.
 */
export interface ConsumerLagRegistry {
  addConsumerLagSource(source: () => Promise<Array<{ stream: string; group: string; lag: number }>>): () => void;
}

/** Options of {@link RedisTransportServer.fromApp}: everything but the connection, which comes from the module. */
export type RedisTransportModuleOptions = Omit<
  RedisTransportOptions,
  | 'moduleOptions'
  | 'url'
  | 'username'
  | 'password'
  | 'redisOptions'
  | 'sentinels'
  | 'name'
  | 'sentinelPassword'
  | 'cluster'
  | 'connectTimeout'
>;

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
  implements CustomTransportStrategy, RedisTransportServerHost
{
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RedisTransportServer.name);
  readonly options: ResolvedTransportOptions;
  private readonly connections: RedisTransportConnections;
  /** Handler runs (and their acks) not finished yet; `drain()` waits for them. */
  private running = 0;
  private idle?: () => void;
  private readonly settled = (): void => {
    if (--this.running === 0) this.idle?.();
  };
  private readonly defaultStartHook = this.onProcessingStartHook;
  private readonly keys: RedisStreamKeys;
  private pubsub?: RedisPubSubServer;
  private streams?: RedisStreamsServer;
  private closed?: Promise<void>;
  private isClosing = false;
  private removeLagSource?: () => void;

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
  }

  /**
   * A server on the connection (and `keyPrefix`) of the application's `RedisModule`.
   *
   * @param app the application (or application context) that imported `RedisModule.forRoot`
   * @param options transport options; `connectionName` picks a named connection of the module
   */
  static fromApp(app: INestApplicationContext, options: RedisTransportModuleOptions = {}): RedisTransportServer {
    const moduleOptions = app.get<ResolvedRedisOptions>(REDIS_RESOLVED_OPTIONS, { strict: false });
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

  get log(): Logger {
    return this.logger;
  }

  get closing(): boolean {
    return this.isClosing;
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
    const group = this.options.streams.group!;
    return Promise.all(
      this.streams.patterns.map((pattern) =>
        readStreamInfo(pub, {
          pattern,
          stream: this.keys.stream(pattern),
          group,
          deadLetterStream: this.keys.deadLetter(pattern),
        }),
      ),
    );
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
   * Graceful shutdown: stops reading (unsubscribes, stops the stream consumers), waits up to `shutdownTimeout` for
   * the handlers in flight (their entries are acknowledged as they finish), then closes the connections.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  /** Registers a listener for an event of the underlying ioredis connections. */
  on<K extends keyof RedisTransportEvents>(event: K, callback: RedisTransportEvents[K]): void {
    this.connections.on(event, callback);
  }

  /** The ioredis connections by role (`pub`, `sub`, `stream:<pattern>`). */
  unwrap<T = ReadonlyMap<RedisTransportConnectionRole, RedisClient>>(): T {
    if (this.connections.all.size === 0) {
      throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method first.');
    }
    return this.connections.all as T;
  }

  handlerFor(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? null;
  }

  deserialize(value: unknown, channel: string): (ReadPacket & { id?: string }) | Promise<ReadPacket & { id?: string }> {
    return this.deserializer.deserialize(value, { channel }) as ReadPacket & { id?: string };
  }

  serializeResponse(packet: WritePacket & { id: string }): unknown {
    return this.serializer.serialize(packet);
  }

  runEvent(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
    const handler = this.handlerFor(pattern);
    if (!handler) {
      this.logger.warn(NO_EVENT_HANDLER(pattern));
      return Promise.resolve();
    }
    if (!this.hooked) return this.callEvent(handler, packet, context);
    return new Promise<void>((resolve, reject) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          await this.callEvent(handler, packet, context);
          resolve();
        } catch (error) {
          reject(error);
        } finally {
          runEndHook();
        }
      });
    });
  }

  runRequest(
    context: BaseRpcContext,
    handler: MessageHandler,
    packet: ReadPacket,
    respond: (packet: WritePacket) => Promise<unknown>,
  ): Promise<void> {
    if (!this.hooked) return this.callRequest(context, handler, packet, respond, NO_END_HOOK);
    return new Promise<void>((resolve) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          await this.callRequest(context, handler, packet, respond, runEndHook);
        } finally {
          resolve();
        }
      });
    });
  }

  report(pattern: string, startedAt: number, outcome: 'ok' | 'failed' | 'dead-lettered'): void {
    this.options.instrumentation?.emit('transport.handled', {
      pattern,
      mode: this.options.mode,
      durationMs: performance.now() - startedAt,
      outcome,
    });
  }

  track(work: Promise<unknown>): void {
    this.running++;
    work.then(this.settled, this.settled);
  }

  /**
   * Whether processing hooks (Nest's tracing entry points) are set: without them a handler is called directly,
   * sparing each message the hooks' async wrapper.
   */
  private get hooked(): boolean {
    return this.onProcessingStartHook !== this.defaultStartHook || this.onProcessingEndHook !== undefined;
  }

  private async callEvent(handler: MessageHandler, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
    const result: unknown = await handler(packet.data, context);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  /** Runs a request handler and passes its reply (or replies) to `respond`; resolves after the last one. */
  private async callRequest(
    context: BaseRpcContext,
    handler: MessageHandler,
    packet: ReadPacket,
    respond: (packet: WritePacket) => Promise<unknown>,
    runEndHook: () => void,
  ): Promise<void> {
    let result: unknown;
    try {
      result = await handler(packet.data, context);
    } catch (error) {
      runEndHook();
      await respond({ err: error, isDisposed: true }).catch((e: unknown) => this.logger.error(e));
      return;
    }
    if (isObservable(result)) {
      // Streams and errors (Nest's exception filters turn a throw into an erroring observable) take Nest's path.
      await new Promise<void>((resolve) => {
        this.send(result.pipe(finalize(runEndHook)), async (response: WritePacket) => {
          try {
            return await respond(response);
          } finally {
            if (response.isDisposed) resolve();
          }
        });
      });
      return;
    }
    // A plain value: one reply, without the observable machinery and its extra tick.
    runEndHook();
    await respond({ response: result, isDisposed: true }).catch((e: unknown) => this.logger.error(e));
  }

  private async start(): Promise<void> {
    const pub = this.connections.open('pub', { autoPipelining: true });
    const sub = this.connections.open('sub', { blocking: true });
    await this.connections.connectAll();
    const events: string[] = [];
    const requests: string[] = [];
    for (const [pattern, handler] of this.messageHandlers) (handler.isEventHandler ? events : requests).push(pattern);

    const streamsMode = this.options.mode === 'streams';
    this.pubsub = new RedisPubSubServer(this, pub, sub);
    await this.pubsub.listen(streamsMode ? requests : [...events, ...requests]);
    if (streamsMode) {
      this.streams = new RedisStreamsServer(this, pub, async (pattern) => {
        const role = `stream:${pattern}` as const;
        const reader = this.connections.open(role, { blocking: true });
        await this.connections.connect(role);
        return reader;
      });
      await this.streams.listen(events);
    }
  }

  private async shutdown(): Promise<void> {
    this.isClosing = true;
    this.removeLagSource?.();
    await Promise.all([this.pubsub?.stop(), this.streams?.stop()]);
    await this.drain();
    await this.connections.closeAll();
  }

  private async drain(): Promise<void> {
    if (this.running === 0) return;
    const timeoutMs = this.options.shutdownTimeout;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => (this.idle = () => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.idle = undefined;
    if (!finished) this.logger.warn(SHUTDOWN_TIMED_OUT(this.running, timeoutMs));
  }
}
