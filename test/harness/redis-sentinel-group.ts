import { Redis } from 'ioredis';
import { RedisServerProcess } from './redis-server-process.js';

/**
 * A throwaway Sentinel deployment: one master, one replica and three sentinels (quorum 2) watching master group
 * `name`, with short timeouts so a failover completes in a few seconds. Optional `password` protects the data nodes.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly name: string,
    readonly master: RedisServerProcess,
    readonly replica: RedisServerProcess,
    readonly sentinels: RedisServerProcess[],
    private readonly password?: string,
  ) {}

  static async start({
    name = 'mymaster',
    password,
  }: { name?: string; password?: string } = {}): Promise<RedisSentinelGroup> {
    const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
    const started: RedisServerProcess[] = [];
    try {
      const master = await RedisServerProcess.start({ args: auth });
      started.push(master);
      const replica = await RedisServerProcess.start({
        args: [...auth, '--replicaof', '127.0.0.1', String(master.port)],
      });
      started.push(replica);
      const config = [
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        ...(password ? [`sentinel auth-pass ${name} ${password}`] : []),
      ].join('\n');
      const sentinels: RedisServerProcess[] = [];
      for (let i = 0; i < 3; i++) {
        const sentinel = await RedisServerProcess.start({ sentinelConfig: config });
        sentinels.push(sentinel);
        started.push(sentinel);
      }
      const group = new RedisSentinelGroup(name, master, replica, sentinels, password);
      await group.waitUntilSettled();
      return group;
    } catch (error) {
      await Promise.all(started.map((s) => s.stop()));
      throw error;
    }
  }

  /** Sentinel addresses in the form the module's `sentinels` option accepts. */
  get addresses(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** The port the sentinels currently report as master (the first sentinel's answer). */
  currentMasterPort(): Promise<number> {
    return this.masterNamedBy(this.sentinels[0]);
  }

  /** The master port `sentinel` names for this group now (while a failover runs, sentinels may disagree). */
  async masterNamedBy(sentinel: RedisServerProcess): Promise<number> {
    const client = new Redis(sentinel.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.replica, this.master].map((s) => s.stop()));
  }

  /** Waits until the replica is in sync and every sentinel knows the master, the replica and the other sentinels. */
  private async waitUntilSettled(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const clients = this.sentinels.map((s) => new Redis(s.port, '127.0.0.1'));
    const replica = new Redis(this.replica.port, '127.0.0.1', { password: this.password });
    try {
      while (Date.now() < deadline) {
        const linkUp = /master_link_status:up/.test(await replica.info('replication'));
        const views = await Promise.all(
          clients.map(async (c) => {
            const master = (await c.call('SENTINEL', 'MASTER', this.name)) as string[];
            const field = (key: string) => Number(master[master.indexOf(key) + 1]);
            return field('num-slaves') >= 1 && field('num-other-sentinels') >= 2;
          }),
        );
        if (linkUp && views.every(Boolean)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('the Sentinel group did not settle');
    } finally {
      clients.forEach((c) => c.disconnect());
      replica.disconnect();
    }
  }
}
