import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { RedisConnectionError } from '../errors/redis-connection.error.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ResolvedRedisConnection, ResolvedRedisCoreOptions } from './resolved-redis-connection.interface.js';
import { REDIS_CONNECTION_NAMES, REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import {
  CONNECTION_CLOSE_FAILED,
  CONNECTION_NOT_CONFIGURED,
  CONNECTION_NOT_READY,
  CONNECTION_REJECTED,
  SHARDED_PUBSUB_UNSUPPORTED,
  STARTING_DEGRADED,
} from '../redis.messages.js';
import { redactSecrets } from '../utils/redact.js';
import { connectionSecrets, describeConnection } from './describe-connection.js';
import {
  createRedisClient,
  isPermanentConnectionError,
  type RedisClient,
  waitUntilReady,
} from './redis-connection.factory.js';
import { settleWithin } from '../utils/settle-within.js';
import { hasShardedPubSub, type PubSubCommands, pubSubCommands } from './pubsub-commands.js';
import { errorText } from '../utils/error-text.js';

/** How long a graceful `QUIT` may take at shutdown before the socket is simply closed. */
const QUIT_TIMEOUT_MS = 2_000;

/**
 * Owns every connection the module opens: creates them at startup (bounded by `connectTimeout`), creates a
 * subscriber connection only when something asks for one, logs connection trouble once per outage with secrets
 * scrubbed, and closes them all at application shutdown.
 */
@Injectable()
export class RedisConnectionsRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('RedisModule');
  private readonly clients = new Map<string, Promise<RedisClient>>();
  private readonly subscribers = new Map<string, Promise<RedisClient>>();
  /** Connections whose server turned out to lack sharded pub/sub (Redis < 7) although it was asked for. */
  private readonly classicOnly = new Set<string>();
  /** Every client opened, with the label used in logs. */
  private readonly opened = new Map<RedisClient, string>();

  constructor(
    @Inject(REDIS_RESOLVED_OPTIONS) private readonly options: ResolvedRedisCoreOptions,
    @Inject(REDIS_CONNECTION_NAMES) injectedNames: string[],
    private readonly instrumentation: RedisInstrumentation,
  ) {
    // Checked before any connection opens, so a misconfigured name fails startup without leaving sockets behind.
    injectedNames.forEach((name) => this.resolved(name));
  }

  /** The names of the configured connections. */
  get names(): string[] {
    return [...this.options.connections.keys()];
  }

  /** Opens (once) and returns the named connection; fails fast unless `startDegraded` is set. */
  connect(name: string): Promise<RedisClient> {
    let pending = this.clients.get(name);
    if (!pending) {
      pending = this.open(this.resolved(name));
      this.clients.set(name, pending);
    }
    return pending;
  }

  /**
   * The pub/sub commands of the library's own channels on the named connection: sharded on a Cluster with
   * `cluster.shardedPubSub` (the default) on Redis ≥ 7, classic otherwise. Settled once `connect(name)` resolved.
   */
  pubSub(name: string): PubSubCommands {
    const connection = this.resolved(name);
    return pubSubCommands(connection.kind === 'cluster' && connection.shardedPubSub && !this.classicOnly.has(name));
  }

  /**
   * A dedicated connection for SUBSCRIBE / blocking commands, duplicated from the named connection on first use
   * (a connection in subscriber mode cannot run other commands). On a Cluster with sharded pub/sub it also holds
   * one sharded subscriber per master it listens on (ioredis' `shardedSubscribers`).
   */
  getSubscriber(name: string): Promise<RedisClient> {
    // The pending promise is stored, so callers asking at the same time (cache, locks) share one connection.
    let pending = this.subscribers.get(name);
    if (!pending) {
      pending = this.openSubscriber(name);
      this.subscribers.set(name, pending);
    }
    return pending;
  }

  private async openSubscriber(name: string): Promise<RedisClient> {
    const main = await this.connect(name);
    const subscriber = this.pubSub(name).sharded
      ? (main as Cluster).duplicate([], { shardedSubscribers: true })
      : main.duplicate();
    this.track(subscriber, this.resolved(name), `${name} (subscriber)`);
    await waitUntilReady(subscriber, this.resolved(name).connectTimeout).catch(() => undefined);
    return subscriber;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  /** Closes every connection this registry opened: QUIT when ready, plain disconnect otherwise. */
  async closeAll(): Promise<void> {
    const clients = [...this.opened];
    this.opened.clear();
    this.clients.clear();
    this.subscribers.clear();
    await Promise.all(clients.map(([client, label]) => this.close(client, label)));
  }

  private resolved(name: string): ResolvedRedisConnection {
    const connection = this.options.connections.get(name);
    if (!connection) throw new RedisOptionsError(CONNECTION_NOT_CONFIGURED(name), `connections.${name}`);
    return connection;
  }

  private async open(connection: ResolvedRedisConnection): Promise<RedisClient> {
    const client = createRedisClient(connection);
    this.track(client, connection, connection.name);
    try {
      await waitUntilReady(client, connection.connectTimeout);
      if (connection.kind === 'cluster' && connection.shardedPubSub && (await hasShardedPubSub(client)) === false) {
        this.classicOnly.add(connection.name);
        this.logger.warn(SHARDED_PUBSUB_UNSUPPORTED(connection.name, describeConnection(connection)));
      }
      return client;
    } catch (error) {
      const target = describeConnection(connection);
      const reason = redactSecrets(errorText(error), connectionSecrets(connection));
      if (this.options.startDegraded) {
        this.logger.warn(STARTING_DEGRADED(connection.name, target, connection.connectTimeout, reason));
        return client;
      }
      await this.closeAll();
      const message =
        error instanceof Error && isPermanentConnectionError(error)
          ? CONNECTION_REJECTED(connection.name, target, reason)
          : CONNECTION_NOT_READY(connection.name, target, connection.connectTimeout, reason);
      throw new RedisConnectionError(message, connection.name, target);
    }
  }

  /** Logs the first error of an outage and the recovery, never every retry, and never a secret. */
  private track(client: RedisClient, connection: ResolvedRedisConnection, label: string): void {
    this.opened.set(client, label);
    const secrets = connectionSecrets(connection);
    let failing = false;
    let wasReady = false;
    client.on('error', (error: Error) => {
      this.instrumentation.emit('connection.error', { connection: label });
      if (failing || !wasReady) return;
      failing = true;
      this.logger.warn(
        `Redis connection "${label}" (${describeConnection(connection)}) failed: ${redactSecrets(error.message, secrets)}; reconnecting.`,
      );
    });
    client.on('reconnecting', () => this.instrumentation.emit('connection.reconnecting', { connection: label }));
    client.on('ready', () => {
      if (failing) this.logger.log(`Redis connection "${label}" is ready again.`);
      failing = false;
      wasReady = true;
    });
  }

  private async close(client: RedisClient, label: string): Promise<void> {
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    try {
      await settleWithin(client.quit(), QUIT_TIMEOUT_MS, () => new Error(`QUIT took over ${QUIT_TIMEOUT_MS} ms`));
      // QUIT ends the socket but not a Sentinel connector's failover-detector connections (one subscriber per
      // sentinel), which would keep the process alive after app.close(): disconnect() releases the connector.
      if (!('isCluster' in client && client.isCluster)) client.disconnect();
    } catch (error) {
      this.logger.warn(CONNECTION_CLOSE_FAILED(label, errorText(error)));
      client.disconnect();
    }
  }
}
