import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AbstractConnector, Redis, type RedisOptions, SentinelConnector } from 'ioredis';

export type ErrorEmitter = (type: string, error: Error) => void;

/** What ioredis calls on a connector: the part of its (unexported) interface this wrapper forwards. */
interface Connector {
  connect(emit: ErrorEmitter): Promise<Socket | TLSSocket>;
  disconnect(): void;
  check(info: unknown): boolean;
  firstError?: Error;
}

/** Same text as ioredis' own, so its shutdown path recognises a close during an attempt. */
const CONNECTION_CLOSED = 'Connection is closed.';

let standaloneConnector: (new (options: RedisOptions) => Connector) | undefined;

/**
 * The connector ioredis would have used. Its standalone connector is not exported, so its class is read once from a
 * client that never connects (a `lazyConnect` client opens no socket and arms no timer).
 */
function defaultConnector(options: RedisOptions): Connector {
  if (options.sentinels) return new SentinelConnector(options) as unknown as Connector;
  standaloneConnector ??= (new Redis({ lazyConnect: true }) as unknown as { connector: Connector }).connector
    .constructor as new (options: RedisOptions) => Connector;
  return new standaloneConnector(options);
}

/** A socket that is already closed: ioredis treats it as a failed attempt and retries per its `retryStrategy`. */
export function failedAttempt(): Socket {
  const socket = new Socket();
  socket.destroy();
  return socket;
}

/**
 * ioredis' own connector, except that a connection attempt cut short by anything but the client itself fails that
 * attempt instead of ending the client.
 *
 * Why: ioredis' Sentinel failover detector (`failoverDetector`, on by default here) closes the connector when the
 * sentinels announce +switch-master. If that lands while the client is reconnecting (asking a sentinel for the
 * master after the old one died), ioredis rejects the attempt with "Connection is closed." and, a rejected attempt
 * being final, ends the client: it never reconnects, and the app's Redis stays down until restarted. Seen in the
 * Sentinel fault run and the demo soak (health "not ready (end)"). The client's own `disconnect()`/`quit()` reaches
 * this wrapper, so a close it asked for still ends it; the detector holds the inner connector and closes only that.
 */
export class DetectorSafeConnector extends AbstractConnector {
  protected readonly options: RedisOptions;
  /** The client closed this connector (its `disconnect()`): an attempt it cut short must stay failed. */
  protected closed = false;
  private readonly inner: Connector;

  /** @param options the client's own options object (ioredis passes it untyped) */
  constructor(options: unknown) {
    super((options as RedisOptions).disconnectTimeout ?? 2_000);
    this.options = options as RedisOptions;
    this.inner = defaultConnector(this.options);
  }

  override check(info: unknown): boolean {
    return this.inner.check(info);
  }

  override disconnect(): void {
    this.closed = true;
    this.inner.disconnect();
  }

  async connect(emit: ErrorEmitter): Promise<Socket | TLSSocket> {
    this.closed = false;
    this.firstError = undefined;
    return (await this.beforeAttempt(emit)) ?? this.connectInner(emit);
  }

  /** Work a subclass does before each attempt; a socket it returns (`failedAttempt()`) fails the attempt. */
  protected async beforeAttempt(_emit: ErrorEmitter): Promise<Socket | undefined> {
    return undefined;
  }

  /** The inner connector's attempt; one it was closed during, by someone other than the client, becomes a failed one. */
  private async connectInner(emit: ErrorEmitter): Promise<Socket | TLSSocket> {
    if (this.closed) throw new Error(CONNECTION_CLOSED);
    try {
      const stream = await this.inner.connect(emit);
      this.firstError = this.inner.firstError;
      return stream;
    } catch (error) {
      if (this.closed || (error as Error)?.message !== CONNECTION_CLOSED) throw error;
      this.firstError = error as Error;
      return failedAttempt();
    }
  }
}
