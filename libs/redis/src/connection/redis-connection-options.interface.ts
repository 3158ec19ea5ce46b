import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisCredentials, RedisCredentialsProvider } from './redis-credentials.interface.js';

/** A Redis node address: `host:port`, a `redis://` URL, or an object. */
export type RedisNodeAddress = string | { host: string; port: number };

/**
 * Where and how to connect. Give one of `url` (optionally refined by `redisOptions`), plain `redisOptions`,
 * `sentinels` + `name`, or `cluster`. With none of them the connection goes to `redis://127.0.0.1:6379`.
 */
export interface RedisConnectionOptions {
  /**
   * `redis://[[username]:password@]host[:port][/db]`, or `rediss://…` for TLS.
   * Credentials in the URL are used to connect and are never logged.
   */
  url?: string;
  /** ACL user name; overrides the one in `url`. */
  username?: string;
  /** Password (or ACL user's password); overrides the one in `url`. Never logged. */
  password?: string;
  /**
   * Credentials fetched before every connection attempt, for short-lived tokens and rotated passwords: a function
   * (sync or async) returning `{ username?, password }`, called on every connect and reconnect of every connection
   * the library opens from these options (subscriber connections, Redlock nodes and transport connections included).
   * Overrides the user name and password of `url` and `redisOptions`; cannot be combined with `username` or
   * `password`. A plain `{ username?, password }` object is accepted too (fixed credentials). If the function throws
   * or returns something else at startup, startup fails naming this option; if it fails on a later reconnect, the
   * connection goes on with the last credentials it returned. Needs Redis 6 or later (ACL `AUTH user pass`).
   * @example credentials: async () => ({ username: 'app', password: await tokens.current() })
   */
  credentials?: RedisCredentials | RedisCredentialsProvider;
  /**
   * Plain ioredis options (host, port, db, tls, …), applied on top of what `url` sets. `keyPrefix` is not accepted
   * here: use the module's top-level `keyPrefix`, which the library applies to every key it writes.
   */
  redisOptions?: Omit<RedisOptions, 'keyPrefix'>;
  /** Sentinel addresses; requires `name`. */
  sentinels?: RedisNodeAddress[];
  /** Name of the master group the sentinels watch. */
  name?: string;
  /** Password for the sentinels themselves, when they require one. */
  sentinelPassword?: string;
  /** Redis Cluster: seed nodes and ioredis cluster options. */
  cluster?: {
    nodes: RedisNodeAddress[];
    options?: Omit<ClusterOptions, 'keyPrefix'>;
    /**
     * The library's own channels (cache invalidations between replicas, lock wake-ups) use sharded pub/sub
     * (`SPUBLISH` / `SSUBSCRIBE`): a message travels only within the shard owning its channel's slot instead of
     * being relayed over the cluster bus to every node. The cache channel is one channel (on one master); a lock's
     * wake-ups share its key's hash tag, so the release script publishes them on the lock's own master. Subscribers
     * hold one connection per master they listen on (ioredis' `shardedSubscribers`) and resubscribe by themselves
     * after a failover; meanwhile L1 is bypassed and lock waiters poll, as with classic pub/sub.
     *
     * Needs Redis ≥ 7 and an ACL allowing `spublish`, `ssubscribe`, `sunsubscribe` on the channels: on an older
     * server (read from `INFO server` at startup) the library logs a warning and uses classic pub/sub. Set `false`
     * while replicas of a version that used classic pub/sub still run (they would not hear each other: L1 copies
     * would live until `l1.ttl`, waiters would wake by polling), or when the ACL allows only classic pub/sub. Every
     * replica must use the same setting. The Redis transport has its own `shardedPubSub` option.
     * @default true
     */
    shardedPubSub?: boolean;
  };
  /**
   * How long startup waits for the connection to be ready, in milliseconds.
   * @default 5000
   */
  connectTimeout?: number;
}

export type { ClusterNode };
