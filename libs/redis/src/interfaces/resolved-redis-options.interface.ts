import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import type { ResolvedLockOptions } from '../lock/lock-options.interface.js';

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
    };

/** The module options after `resolveRedisOptions`: what every service of the library reads. */
export interface ResolvedRedisOptions {
  keyPrefix: string;
  startDegraded: boolean;
  connections: Map<string, ResolvedRedisConnection>;
  /** Cache options with every default filled in. */
  cache: ResolvedCacheOptions;
  /** Lock defaults and Redlock nodes (`nodes` empty in single-node mode). */
  lock: ResolvedLockOptions;
}
