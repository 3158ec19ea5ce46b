import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../connection/redis-connection.factory.js';

/** What one probe of a connection measured. */
export interface RedisProbeResult {
  latencyMs: number;
  role: string;
  usedMemory: number;
  maxMemory: number;
  /** `cluster_state` of a Cluster (undefined for a single node). */
  clusterState?: string;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

async function probeNode(node: Redis): Promise<{ usedMemory: number; maxMemory: number; role: string }> {
  const [memory, replication] = await Promise.all([node.info('memory'), node.info('replication')]);
  return {
    usedMemory: Number(infoField(memory, 'used_memory') ?? 0),
    maxMemory: Number(infoField(memory, 'maxmemory') ?? 0),
    role: infoField(replication, 'role') ?? 'unknown',
  };
}

/**
 * Measures a connection with the commands an operator would run: PING for latency, INFO memory and replication
 * for role and memory, CLUSTER INFO on a Cluster (memory reported for the fullest master). Uses the app's own
 * client, so no connection is opened per probe.
 */
export async function probeRedis(client: RedisClient): Promise<RedisProbeResult> {
  const started = process.hrtime.bigint();
  await client.ping();
  const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
  if ('nodes' in client && typeof (client as Cluster).nodes === 'function') {
    const cluster = client as Cluster;
    const [state, nodes] = await Promise.all([
      cluster.cluster('INFO') as Promise<string>,
      Promise.all(cluster.nodes('master').map(probeNode)),
    ]);
    const fullest = nodes.reduce((a, b) => (ratio(b) > ratio(a) ? b : a), nodes[0] ?? { usedMemory: 0, maxMemory: 0 });
    return {
      latencyMs,
      role: 'cluster',
      usedMemory: fullest.usedMemory,
      maxMemory: fullest.maxMemory,
      clusterState: infoField(state, 'cluster_state') ?? 'unknown',
    };
  }
  return { latencyMs, ...(await probeNode(client as Redis)) };
}

/** used ÷ max, or 0 when `maxmemory` is unlimited. */
export function ratio({ usedMemory, maxMemory }: { usedMemory: number; maxMemory: number }): number {
  return maxMemory > 0 ? usedMemory / maxMemory : 0;
}
