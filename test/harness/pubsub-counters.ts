import type { Redis } from 'ioredis';

/**
 * One master's pub/sub counters: cluster-bus PUBLISH messages it sent (the classic fan-out of a PUBLISH to the other
 * nodes), sharded ones (to its replicas), and the PUBLISH / SPUBLISH commands it ran (scripts' calls included).
 */
export interface PubSubCounters {
  /** `host:port`. */
  node: string;
  busPublish: number;
  busPublishShard: number;
  publish: number;
  spublish: number;
}

type Counter = Exclude<keyof PubSubCounters, 'node'>;

/** Reads the counters of each master (`CLUSTER INFO` and `INFO commandstats`). */
export async function pubSubCounters(masters: Redis[]): Promise<PubSubCounters[]> {
  const counters: PubSubCounters[] = [];
  for (const master of masters) {
    const info = (await master.cluster('INFO')) as string;
    const stats = await master.info('commandstats');
    const field = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    counters.push({
      node: `${master.options.host}:${master.options.port}`,
      busPublish: field(info, /^cluster_stats_messages_publish_sent:(\d+)/m),
      busPublishShard: field(info, /^cluster_stats_messages_publishshard_sent:(\d+)/m),
      publish: field(stats, /^cmdstat_publish:calls=(\d+)/m),
      spublish: field(stats, /^cmdstat_spublish:calls=(\d+)/m),
    });
  }
  return counters;
}

/** What each master's counters grew by between two readings of the same masters. */
export function pubSubDelta(before: PubSubCounters[], after: PubSubCounters[]): PubSubCounters[] {
  return after.map((now, n) => ({
    node: now.node,
    busPublish: now.busPublish - before[n]!.busPublish,
    busPublishShard: now.busPublishShard - before[n]!.busPublishShard,
    publish: now.publish - before[n]!.publish,
    spublish: now.spublish - before[n]!.spublish,
  }));
}

/** One counter summed over the masters. */
export function sumOf(counters: PubSubCounters[], counter: Counter): number {
  return counters.reduce((total, c) => total + c[counter], 0);
}
