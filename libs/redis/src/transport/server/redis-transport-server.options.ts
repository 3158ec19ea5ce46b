import type { RedisTransportOptions } from '../options/redis-transport-options.interface.js';

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
  | 'host'
  | 'port'
  | 'returnBuffers'
>;
