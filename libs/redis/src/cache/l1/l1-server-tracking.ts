import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { errorText } from '../../utils/error-text.js';
import { RateLimitedLog } from '../../utils/rate-limited-log.js';
import { isCluster } from '../batch/redis-hash-slot.js';
import { CACHE_L1_DROPPED, CACHE_L1_TRACKING_FAILED } from '../cache.messages.js';
import type { LruCache } from './lru-cache.js';

/** The channel Redis publishes tracking invalidations on (RESP2 redirect mode). */
const INVALIDATE_CHANNEL = '__redis__:invalidate';

/**
 * Keys remembered as "invalidated while a read may be in flight". Past this, the memory is dropped and every read in
 * flight is treated as invalidated (its value is served but not kept in L1): bounded memory, never a stale L1.
 */
const MAX_REMEMBERED = 10_000;

/** Backoff of a tracking connection's reconnection: 50 ms, growing to 2 s, forever (until stopped). */
const reconnectDelay = (attempt: number): number => Math.min(attempt * 50, 2_000);

/** Delay before a failed tracking setup is tried again on the same connection (a reconnect retries at once). */
const SETUP_RETRY_MS = 1_000;

/**
 * One tracking connection: `CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <entries>`, then SUBSCRIBE to
 * `__redis__:invalidate`, so this one connection receives every invalidation of the cache's entries on its node.
 * Its own id as the redirect target means losing the connection loses tracking and subscription together: there is
 * no state where one survives without the other (which RESP2 would not report: `tracking-redir-broken` is a RESP3
 * push).
 */
class TrackingConnection {
  private up = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly onReady = (): void => void this.setUp();
  private readonly onDown = (): void => {
    if (!this.up) return;
    this.up = false;
    this.events.down('tracking connection lost');
  };
  private readonly onMessage = (channel: Buffer, payload: Buffer | Buffer[] | null): void => {
    if (channel.toString() !== INVALIDATE_CHANNEL) return;
    // A null payload is FLUSHDB / FLUSHALL (or the server dropping its tracking table): everything may have changed.
    if (payload === null || !Array.isArray(payload)) this.events.flushed();
    else this.events.invalidated(payload);
  };

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly events: {
      up(): void;
      down(reason: string): void;
      flushed(): void;
      invalidated(keys: Buffer[]): void;
      failed(error: unknown): void;
    },
  ) {}

  get live(): boolean {
    return this.up;
  }

  start(): void {
    this.connection.on('messageBuffer', this.onMessage);
    this.connection.on('ready', this.onReady);
    this.connection.on('close', this.onDown);
    this.connection.on('end', this.onDown);
    // Errors are reported through 'close' and the setup's failure; without a listener ioredis would log them.
    this.connection.on('error', () => undefined);
    if (this.connection.status === 'ready') void this.setUp();
  }

  stop(): void {
    this.stopped = true;
    this.up = false;
    clearTimeout(this.retry);
    this.connection.removeAllListeners();
    this.connection.disconnect();
  }

  private async setUp(): Promise<void> {
    clearTimeout(this.retry);
    try {
      const id = (await this.connection.client('ID')) as number;
      // OFF first: a retry after a failed SUBSCRIBE would otherwise add the prefix a second time.
      await this.connection.client('TRACKING', 'OFF');
      await this.connection.client('TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'PREFIX', this.prefix);
      await this.connection.subscribe(INVALIDATE_CHANNEL);
      if (this.stopped || this.connection.status !== 'ready') return;
      this.up = true;
      this.events.up();
    } catch (error) {
      if (this.stopped) return;
      this.events.failed(error);
      // Not subscribed yet (SUBSCRIBE is the last step), so the same connection can run the setup again.
      this.retry = setTimeout(() => {
        if (!this.stopped && !this.up && this.connection.status === 'ready') void this.setUp();
      }, SETUP_RETRY_MS);
      this.retry.unref();
    }
  }
}

/**
 * Keeps L1 coherent with what Redis holds, whoever writes it (another application, `redis-cli`, a script): Redis
 * client-side caching in broadcast mode (`CLIENT TRACKING … BCAST PREFIX <entry prefix>`), one tracking connection
 * per master (a Cluster's masters each report the writes of their own slots). Redis sends the key of every write to
 * an entry; the entry is dropped from L1.
 *
 * Chosen over the default (per-key) mode: the reads go through the shared connection of the application, and
 * default mode would have Redis remember every key that connection reads (locks, user commands), and invalidate
 * only keys read on the tracking connection itself. Broadcast costs one message per write to a cache entry per
 * replica and no server memory per key. RESP2 with a redirect because ioredis speaks RESP2 only.
 *
 * Fail-safe: L1 is read only while every tracking connection is subscribed. Whenever one drops (or fails to set up,
 * or the Cluster's masters change), L1 is emptied and bypassed; when all are back it is emptied once more (writes in
 * between were not reported) and used again.
 *
 * A read racing a write: Redis may send the invalidation before the reply of a GET that read the old value, on
 * another connection. So a value is only kept in L1 when no invalidation of its key (nor a flush) arrived since the
 * read began: `token()` before the read, `mayKeep(key, token)` before storing.
 */
export class L1ServerTracking {
  private readonly logger = new Logger('RedisCache');
  private readonly failures: RateLimitedLog;
  private connections: TrackingConnection[] = [];
  private sequence = 0;
  private flushedAt = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private stopped = false;
  /** Every tracking connection is subscribed: kept up to date on each change, read on every L1 hit. */
  private allLive = false;
  private rebuildScheduled = false;
  private readonly rebuild = (): void => {
    if (this.rebuildScheduled || this.stopped) return;
    this.rebuildScheduled = true;
    setImmediate(() => {
      this.rebuildScheduled = false;
      if (!this.stopped) this.connect();
    });
  };

  /**
   * @param client the application's connection (a Cluster: one tracking connection per master is opened from it)
   * @param prefix the Redis key prefix of every cache entry
   * @param l1KeyOf the L1 key of an entry key, or `undefined` for keys under the prefix that are not entries
   */
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly l1: LruCache,
    private readonly l1KeyOf: (entryKey: string) => string | undefined,
    errorLogInterval: number,
  ) {
    this.failures = new RateLimitedLog(this.logger, errorLogInterval);
  }

  /** Whether L1 may be read: every tracking connection is subscribed. */
  get live(): boolean {
    return this.allLive;
  }

  /** Marks the start of a read whose value may be kept in L1. */
  token(): number {
    return this.sequence;
  }

  /** Whether a value read since `token` may be kept in L1: tracking is live and its key was not invalidated since. */
  mayKeep(l1Key: string, token: number): boolean {
    return this.live && this.flushedAt <= token && (this.invalidatedAt.get(l1Key) ?? -1) <= token;
  }

  start(): void {
    if (isCluster(this.client)) {
      const cluster = this.client as Cluster;
      cluster.on('+node', this.rebuild);
      cluster.on('-node', this.rebuild);
      cluster.on('ready', this.rebuild);
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (isCluster(this.client)) {
      const cluster = this.client as Cluster;
      cluster.off('+node', this.rebuild);
      cluster.off('-node', this.rebuild);
      cluster.off('ready', this.rebuild);
    }
    for (const connection of this.connections) connection.stop();
    this.connections = [];
    this.allLive = false;
    this.l1.clear();
  }

  private updateLive(): void {
    this.allLive =
      !this.stopped && this.connections.length > 0 && this.connections.every((connection) => connection.live);
  }

  /** (Re)opens one tracking connection per master; L1 is bypassed until all of them are subscribed. */
  private connect(): void {
    for (const connection of this.connections) connection.stop();
    this.allLive = false;
    this.drop('tracking connections (re)opened');
    const nodes: Redis[] = isCluster(this.client) ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    this.connections = nodes.map((node) => {
      // Subscriptions are restored by the setup (tracking first: a subscribed RESP2 connection takes no CLIENT).
      const connection = new TrackingConnection(
        // A Cluster's node connections never reconnect by themselves (retryStrategy null: the Cluster reconnects
        // them); this one must, so it gets its own backoff.
        node.duplicate({ autoResubscribe: false, lazyConnect: false, retryStrategy: reconnectDelay }),
        this.prefix,
        {
          up: () => {
            this.updateLive();
            if (this.allLive) this.drop('tracking connections subscribed');
          },
          down: (reason) => {
            this.updateLive();
            this.drop(reason);
          },
          flushed: () => this.drop('server flushed the keyspace'),
          invalidated: (keys) => this.invalidate(keys),
          failed: (error) => {
            this.updateLive();
            this.drop('tracking setup failed');
            this.failures.warn((suppressed) => CACHE_L1_TRACKING_FAILED(errorText(error), suppressed), 'tracking');
          },
        },
      );
      connection.start();
      return connection;
    });
  }

  private invalidate(keys: Buffer[]): void {
    const sequence = ++this.sequence;
    if (this.invalidatedAt.size + keys.length > MAX_REMEMBERED) {
      this.invalidatedAt.clear();
      this.flushedAt = sequence;
    }
    for (const raw of keys) {
      const l1Key = this.l1KeyOf(raw.toString());
      if (l1Key === undefined) continue;
      this.l1.delete(l1Key);
      this.invalidatedAt.set(l1Key, sequence);
    }
  }

  /** Empties L1 and keeps no value read before now. */
  private drop(reason: string): void {
    this.flushedAt = ++this.sequence;
    this.invalidatedAt.clear();
    if (this.l1.size > 0) {
      this.l1.clear();
      this.logger.debug(CACHE_L1_DROPPED(reason));
    }
  }
}
