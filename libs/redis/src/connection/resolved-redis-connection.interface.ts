import type { ClusterOptions, RedisOptions } from 'ioredis';

/** A connection after validation: exactly one topology, every default filled in. */
export type ResolvedRedisConnection =
  | { kind: 'standalone'; name: string; connectTimeout: number; options: RedisOptions }
  | { kind: 'sentinel'; name: string; connectTimeout: number; options: RedisOptions }
  | {
      kind: 'cluster';
      name: string;
      connectTimeout: number;
      nodes: Array<{ host: string; port: number }>;
      options: ClusterOptions;
      /** The library's own channels use sharded pub/sub (`cluster.shardedPubSub`). */
      shardedPubSub: boolean;
    };

/**
 * The validated module options every layer may read: the key prefix, the degraded start and the named connections.
 * Features add their own resolved section (`cache`, `lock`) in `ResolvedRedisOptions`, which lives above them.
 */
export interface ResolvedRedisCoreOptions {
  keyPrefix: string;
  startDegraded: boolean;
  connections: Map<string, ResolvedRedisConnection>;
}
