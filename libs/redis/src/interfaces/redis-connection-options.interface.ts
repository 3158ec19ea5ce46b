import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

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
  };
  /**
   * How long startup waits for the connection to be ready, in milliseconds.
   * @default 5000
   */
  connectTimeout?: number;
}

export type { ClusterNode };
