import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServerProcess } from './redis-server-process.js';

const run = promisify(execFile);

/**
 * A throwaway Redis Cluster of `masters` nodes with no replicas, created with `redis-cli --cluster create` and
 * waited on until `cluster_state:ok` on every node.
 */
export class RedisClusterProcesses {
  private constructor(readonly nodes: RedisServerProcess[]) {}

  static async start(masters = 3): Promise<RedisClusterProcesses> {
    const nodes: RedisServerProcess[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(
          await RedisServerProcess.start({
            clusterBus: true,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
          }),
        );
      }
      const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
      const cluster = new RedisClusterProcesses(nodes);
      await cluster.waitUntilOk();
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

  private async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const clients = this.nodes.map((n) => new Redis(n.port, '127.0.0.1', { lazyConnect: false }));
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
