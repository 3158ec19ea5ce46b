import type { LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { connectionSecrets, describeConnection } from '../connection/describe-connection.js';
import { type RedisClient, waitUntilReady } from '../connection/redis-connection.factory.js';
import { redactSecrets } from '../utils/redact.js';
import { waitWithin } from '../utils/settle-within.js';
import { STATUS_CHANGED } from './redis-transport.messages.js';
import {
  type RedisTransportClients,
  type RedisTransportConnectionRole,
  type RedisTransportEvents,
  RedisTransportStatus,
} from './redis-transport.events.js';
import type { ResolvedTransportOptions } from './options/resolve-transport-options.js';

type Listener = { event: keyof RedisTransportEvents; callback: (...args: never[]) => void };

/** How one connection is used, which decides its ioredis settings. */
export interface ConnectionUse {
  /** Runs blocking commands or holds subscriptions: commands wait for the reconnection instead of failing. */
  blocking?: boolean;
  /**
   * Hot-path command connection (PUBLISH, XADD, XACK). On a Cluster it uses ioredis' auto-pipelining; on a single
   * node the transport coalesces writes itself (`connection/redis-write-coalescer.ts`).
   */
  autoPipelining?: boolean;
  /**
   * Holds sharded subscriptions (`shardedPubSub`): on a Cluster, one subscriber per shard (ioredis'
   * `shardedSubscribers`), since an SSUBSCRIBE must reach the node owning its channel's slot.
   */
  shardedSubscriptions?: boolean;
}

/**
 * The connections of one transport server or client: created with a backoff that never gives up, their status
 * folded into the transport's status stream (logged once per change), errors logged once per outage with secrets
 * scrubbed, and all closed together.
 */
export class RedisTransportConnections {
  private readonly clients = new Map<RedisTransportConnectionRole, RedisClient>();
  private readonly ready = new Set<RedisTransportConnectionRole>();
  private readonly listeners: Listener[] = [];
  private readonly secrets: string[];
  private current?: RedisTransportStatus;
  private closing = false;

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly side: 'server' | 'client',
    private readonly status$: { next(status: RedisTransportStatus): void },
    private readonly logger: LoggerService,
  ) {
    this.secrets = connectionSecrets(options.connection);
  }

  /** The redacted address, for logs. */
  get target(): string {
    return describeConnection(this.options.connection);
  }

  get all(): ReadonlyMap<RedisTransportConnectionRole, RedisClient> {
    return this.clients;
  }

  /** The connections as `unwrap()` hands them out: `[pub, sub, …]`, with `get(role)`. */
  unwrapped(): RedisTransportClients<RedisClient> {
    const list = [...this.clients.values()];
    Object.defineProperty(list, 'get', { value: (role: RedisTransportConnectionRole) => this.clients.get(role) });
    return list as unknown as RedisTransportClients<RedisClient>;
  }

  /** Creates (not yet connected) the connection for `role`. */
  open(role: RedisTransportConnectionRole, use: ConnectionUse = {}): RedisClient {
    const client = this.create(role, use);
    this.clients.set(role, client);
    this.track(role, client);
    for (const { event, callback } of this.listeners) this.attach(role, client, event, callback);
    return client;
  }

  /** Connects every connection opened so far; rejects when one is not ready within `connectTimeout`. */
  async connectAll(): Promise<void> {
    const timeout = this.options.connection.connectTimeout;
    await Promise.all([...this.clients.values()].map((client) => waitUntilReady(client, timeout)));
  }

  /** Connects one connection (opened after `connectAll`, such as a stream reader). */
  async connect(role: RedisTransportConnectionRole): Promise<void> {
    const client = this.clients.get(role);
    if (client) await waitUntilReady(client, this.options.connection.connectTimeout);
  }

  /** Registers an ioredis event listener on every current and future connection. */
  on<K extends keyof RedisTransportEvents>(event: K, callback: RedisTransportEvents[K]): void {
    const listener = { event, callback: callback as Listener['callback'] };
    this.listeners.push(listener);
    for (const [role, client] of this.clients) this.attach(role, client, event, listener.callback);
  }

  /** Closes every connection: QUIT when ready (bounded), plain disconnect otherwise. */
  async closeAll(): Promise<void> {
    this.closing = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      clients.map(async (client) => {
        if (client.status !== 'ready') return client.disconnect();
        await waitWithin(client.quit(), 2_000);
        client.disconnect();
      }),
    );
    this.setStatus(RedisTransportStatus.DISCONNECTED);
  }

  /** Exponential backoff with jitter, forever (until the transport is closed). */
  private retryDelay(times: number): number | null {
    if (this.closing) return null;
    const { reconnectDelay, reconnectMaxDelay } = this.options;
    const base = Math.min(reconnectDelay * 2 ** Math.min(times - 1, 20), reconnectMaxDelay);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private create(role: RedisTransportConnectionRole, use: ConnectionUse): RedisClient {
    const connection = this.options.connection;
    const retryStrategy = (times: number) => this.retryDelay(times);
    const perUse = { ...(use.blocking && { maxRetriesPerRequest: null }) };
    if (connection.kind === 'cluster') {
      const base = connection.options.redisOptions ?? {};
      return new Cluster(connection.nodes, {
        ...connection.options,
        ...perUse,
        ...(use.autoPipelining && { enableAutoPipelining: true }),
        ...(use.shardedSubscriptions && { shardedSubscribers: true }),
        lazyConnect: true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...base, connectionName: this.connectionName(base.connectionName, role) },
      });
    }
    return new Redis({
      ...connection.options,
      ...perUse,
      lazyConnect: true,
      retryStrategy,
      connectionName: this.connectionName(connection.options.connectionName, role),
    });
  }

  private connectionName(base: string | undefined, role: RedisTransportConnectionRole): string {
    return `${base ?? 'nest-redis'}:${this.side}-${role}`.replace(/[^A-Za-z0-9:_\-.]/g, '_');
  }

  private attach(
    role: RedisTransportConnectionRole,
    client: RedisClient,
    event: keyof RedisTransportEvents,
    callback: Listener['callback'],
  ): void {
    client.on(event, (...args: unknown[]) => (callback as (...a: unknown[]) => void)(role, ...args));
  }

  private track(role: RedisTransportConnectionRole, client: RedisClient): void {
    let failing = false;
    client.on('error', (error: Error) => {
      if (failing || this.closing) return;
      failing = true;
      this.logger.warn?.(
        `Redis transport ${this.side} connection "${role}" (${this.target}) failed: ${redactSecrets(error.message, this.secrets)}; reconnecting.`,
      );
    });
    client.on('ready', () => {
      failing = false;
      this.ready.add(role);
      if ([...this.clients.keys()].every((r) => this.ready.has(r))) this.setStatus(RedisTransportStatus.CONNECTED);
    });
    const lost = () => {
      this.ready.delete(role);
      if (!this.closing && this.current === RedisTransportStatus.CONNECTED) {
        this.setStatus(RedisTransportStatus.RECONNECTING);
      }
    };
    client.on('close', lost);
    client.on('reconnecting', lost);
  }

  private setStatus(status: RedisTransportStatus): void {
    if (this.current === status) return;
    this.current = status;
    this.status$.next(status);
    const message = STATUS_CHANGED(this.side, status, this.target);
    if (status === RedisTransportStatus.RECONNECTING) this.logger.warn?.(message);
    else this.logger.log(message);
  }
}
