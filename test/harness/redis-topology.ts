import { Cluster, Redis } from 'ioredis';
import type { RedisModuleOptions } from '@app/redis';
import { RedisClusterProcesses } from './redis-cluster.js';
import { RedisServerProcess } from './redis-server-process.js';

/** The part of `RedisModule.forRoot()` options that says where Redis is: a URL or Cluster seed nodes. */
export type TopologyConnection = Pick<RedisModuleOptions, 'url' | 'cluster'>;

/**
 * A Redis deployment shape a contract suite runs on (as bentocache runs one driver suite per driver): started
 * afresh from throwaway `redis-server` processes, so a suite may stop its nodes.
 */
export interface RedisTopology {
  /** Shown in the suite's name, e.g. `single node`. */
  readonly name: string;
  /** How many masters hold the keyspace (1 for a single node). */
  readonly masters: number;
  start(): Promise<RunningTopology>;
}

/** A started topology: its connection options, an observer client, and the means to fail and stop its nodes. */
export interface RunningTopology {
  readonly connection: TopologyConnection;
  /** A plain client the test reads and writes Redis through (a `Cluster` client on Cluster). */
  readonly observer: Redis | Cluster;
  /** The master clients (one per master), to count what each holds. */
  masterClients(): Redis[];
  /** Stops the node that holds `key` (keeping its data directory) and returns what restarts it. */
  stopNodeHolding(key: string): Promise<() => Promise<void>>;
  /** Closes the observer and stops every node. */
  stop(): Promise<void>;
}

/** One throwaway `redis-server`. */
export const singleNode: RedisTopology = {
  name: 'single node',
  masters: 1,
  async start() {
    const server = await RedisServerProcess.start();
    const observer = new Redis(server.url);
    return {
      connection: { url: server.url },
      observer,
      masterClients: () => [observer],
      async stopNodeHolding() {
        await server.stop({ keepDir: true });
        return () => server.restart();
      },
      async stop() {
        observer.disconnect();
        await server.stop();
      },
    };
  },
};

/** A Redis Cluster of three throwaway masters and no replicas. */
export const redisCluster: RedisTopology = {
  name: 'Redis Cluster (3 masters)',
  masters: 3,
  async start() {
    const cluster = await RedisClusterProcesses.start(3);
    const observer = new Cluster(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    // Ready means the slot map is loaded, so masterClients() lists every master from the first call.
    await observer.ping();
    return {
      connection: { cluster: { nodes: cluster.addresses } },
      observer,
      masterClients: () => observer.nodes('master'),
      async stopNodeHolding(key) {
        const slot = (await observer.cluster('KEYSLOT', key)) as number;
        const node = await cluster.nodeServingSlot(slot);
        await node.stop({ keepDir: true });
        return async () => {
          await node.restart();
          await cluster.waitUntilOk();
        };
      },
      async stop() {
        observer.disconnect();
        await cluster.stop();
      },
    };
  },
};
