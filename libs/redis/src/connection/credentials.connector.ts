import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AbstractConnector, Redis, type RedisOptions, SentinelConnector } from 'ioredis';
import { rotatingCredentialsOf } from './rotating-credentials.js';

type ErrorEmitter = (type: string, error: Error) => void;

/** What ioredis calls on a connector: the part of its (unexported) interface this wrapper forwards. */
interface Connector {
  connect(emit: ErrorEmitter): Promise<Socket | TLSSocket>;
  disconnect(): void;
  check(info: unknown): boolean;
  firstError?: Error;
}

/** Same text as ioredis' own, so its shutdown path recognises a close during the credentials fetch. */
const CONNECTION_CLOSED = 'Connection is closed.';

/** ioredis' own `connectTimeout` default, for a client without one (the library always sets it). */
const DEFAULT_CONNECT_MS = 10_000;

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
function failedAttempt(): Socket {
  const socket = new Socket();
  socket.destroy();
  return socket;
}

/**
 * The ioredis `Connector` of connections configured with a credentials function: before each connection attempt
 * (the first connect and every reconnect) it awaits the function, then connects as ioredis would have. ioredis
 * builds one connector per client from its options, and duplicates, Cluster nodes and the clients the library
 * creates copy those options, so every one of them fetches before it connects.
 *
 * When a fetch fails after an earlier one succeeded, the attempt goes on with the last credentials (a token usually
 * outlives a blip of its issuer) and the failure is reported as an `error` event. When no fetch has succeeded yet,
 * the attempt fails with that error and ioredis retries per its `retryStrategy`; startup reports it at once.
 */
export class CredentialsConnector extends AbstractConnector {
  private readonly inner: Connector;
  private closed = false;

  private readonly options: RedisOptions;

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
    const credentials = rotatingCredentialsOf(this.options);
    if (credentials) {
      try {
        // Half the connect timeout: the rest is left to the socket and handshake, and a hung issuer is reported as
        // such (naming the option) before startup's own wait for the connection runs out.
        await credentials.refresh(Math.max(1, Math.floor((this.options.connectTimeout ?? DEFAULT_CONNECT_MS) / 2)));
      } catch (error) {
        if (!credentials.fetched) {
          this.firstError = error as Error;
          return failedAttempt();
        }
        emit('error', error as Error);
      }
    }
    if (this.closed) throw new Error(CONNECTION_CLOSED);
    const stream = await this.inner.connect(emit);
    this.firstError = this.inner.firstError;
    return stream;
  }
}
