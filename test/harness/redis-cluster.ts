import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServerProcess } from './redis-server-process.js';

const run = promisify(execFile);

/**
 * A throwaway Redis Cluster of `masters` nodes, each with `replicasPerMaster` replicas (none by default), created
 * with `redis-cli --cluster create` and waited on until `cluster_state:ok` on every node and every replica is in
 * sync with its master.
 */
export class RedisClusterProcesses {
  private constructor(readonly nodes: RedisServerProcess[]) {}

  static async start(masters = 3, replicasPerMaster = 0): Promise<RedisClusterProcesses> {
    const nodes: RedisServerProcess[] = [];
    try {
      for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
        nodes.push(
          await RedisServerProcess.start({
            clusterBus: true,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
          }),
        );
      }
      const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
      await run('redis-cli', [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ]);
      const cluster = new RedisClusterProcesses(nodes);
      await cluster.waitUntilOk();
      if (replicasPerMaster > 0) await cluster.waitUntilReplicasSynced(masters * replicasPerMaster);
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw error;
    }
  }

  /** Seed addresses in the `host:port` form the module's `cluster.nodes` accepts. */
  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** The master serving hash slot `slot`, as a running node reports it (`CLUSTER SLOTS`). */
  async nodeServingSlot(slot: number): Promise<RedisServerProcess> {
    const running = this.nodes.find((n) => n.running);
    if (!running) throw new Error('no cluster node is running');
    const client = new Redis(running.port, '127.0.0.1');
    try {
      const ranges = await client.cluster('SLOTS');
      const [, , master] = ranges.find(([start, end]) => slot >= start && slot <= end) ?? [];
      const node = this.nodes.find((n) => n.port === master?.[1]);
      if (!node) throw new Error(`no node serves slot ${slot}`);
      return node;
    } finally {
      client.disconnect();
    }
  }

  /** The running nodes that are masters now, as each reports its own role (`ROLE`). */
  async masters(): Promise<RedisServerProcess[]> {
    const roles = await Promise.all(
      this.nodes
        .filter((n) => n.running)
        .map(async (node) => {
          const client = new Redis(node.port, '127.0.0.1');
          try {
            return { node, role: ((await client.role()) as [string])[0] };
          } finally {
            client.disconnect();
          }
        }),
    );
    return roles.filter((r) => r.role === 'master').map((r) => r.node);
  }

  /**
   * Waits until another node than `old` serves hash slot `slot` (its replica was promoted after `old` was killed)
   * and the cluster is `ok` again; resolves with the time that took.
   */
  async waitUntilFailedOver(slot: number, old: RedisServerProcess, timeoutMs = 30_000): Promise<number> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    while ((await this.nodeServingSlot(slot).catch(() => old)) === old) {
      if (Date.now() > deadline) throw new Error(`no replica took over slot ${slot}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.waitUntilOk(Math.max(1_000, deadline - Date.now()));
    return Date.now() - started;
  }

  /** Waits until `count` replicas report their link to their master up and in sync. */
  async waitUntilReplicasSynced(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const clients = this.nodes.filter((n) => n.running).map((n) => new Redis(n.port, '127.0.0.1'));
    try {
      while (Date.now() < deadline) {
        const infos = await Promise.all(clients.map((c) => c.info('replication')));
        const synced = infos.filter((i) => /^role:slave/m.test(i) && /^master_link_status:up/m.test(i)).length;
        if (synced >= count) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`fewer than ${count} replicas in sync`);
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  }

  /** Waits until every node reports `cluster_state:ok` (after `start()`, or after a stopped node restarted). */
  async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const clients = this.nodes
      .filter((n) => n.running)
      .map((n) => new Redis(n.port, '127.0.0.1', { lazyConnect: false }));
    try {
      while (Date.now() < deadline) {
        const infos = await Promise.all(clients.map((c) => c.cluster('INFO') as Promise<string>));
        if (infos.every((info) => info.includes('cluster_state:ok'))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('cluster did not reach cluster_state:ok');
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  }
}
