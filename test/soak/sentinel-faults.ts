import { Redis } from 'ioredis';
import type { RedisSentinelGroup } from '../harness/redis-sentinel-group.js';
import type { RedisServerProcess } from '../harness/redis-server-process.js';

/** What one fault did to the Sentinel group, for the soak's event column. */
export interface SentinelFaultReport {
  kind: 'restart' | 'failover';
  /** Master port before and after. */
  from: number;
  to: number;
  /** From the fault's start until the sentinels named the new master. */
  promotedAfterMs: number;
  /** From the fault's start until the other data node was a replica in sync again (0 if it never was in time). */
  settledAfterMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Restarts the current master: SIGTERM, wait until the sentinels promote the replica, start it again on the same
 * port (it comes back empty, as the group's nodes persist nothing, and the sentinels turn it into a replica of the
 * new master, which it syncs from). Restarting it before the promotion would let an empty master wipe the replica,
 * so the restart waits for the promotion (down-after-milliseconds is 1 s in the harness's group).
 */
export async function restartMaster(group: RedisSentinelGroup): Promise<SentinelFaultReport> {
  const startedAt = Date.now();
  const from = await currentMasterPort(group);
  const master = dataNode(group, from);
  await master.stop({ keepDir: true });
  const to = await waitForNewMaster(group, from, 60_000);
  const promotedAfterMs = Date.now() - startedAt;
  await master.restart();
  const settled = await waitForReplicaInSync(master, 60_000);
  return { kind: 'restart', from, to, promotedAfterMs, settledAfterMs: settled ? Date.now() - startedAt : 0 };
}

/**
 * `SENTINEL FAILOVER <name>`: the sentinels promote the replica without waiting for the master to fail (retried for
 * up to 30 s while they answer that no replica is good enough yet, e.g. one still syncing after a restart).
 */
export async function forceFailover(group: RedisSentinelGroup): Promise<SentinelFaultReport> {
  const startedAt = Date.now();
  const from = await currentMasterPort(group);
  const sentinel = new Redis(group.sentinels[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    for (;;) {
      try {
        await sentinel.call('SENTINEL', 'FAILOVER', group.name);
        break;
      } catch (error) {
        if (Date.now() - startedAt > 30_000) throw error;
        await sleep(500);
      }
    }
  } finally {
    sentinel.disconnect();
  }
  const to = await waitForNewMaster(group, from, 60_000);
  const promotedAfterMs = Date.now() - startedAt;
  const settled = await waitForReplicaInSync(dataNode(group, from), 60_000);
  return { kind: 'failover', from, to, promotedAfterMs, settledAfterMs: settled ? Date.now() - startedAt : 0 };
}

export function describeFault(report: SentinelFaultReport): string {
  const what =
    report.kind === 'restart' ? `master :${report.from} restarted` : `SENTINEL FAILOVER from :${report.from}`;
  const settled =
    report.settledAfterMs > 0
      ? `replica in sync ${(report.settledAfterMs / 1000).toFixed(1)} s`
      : 'replica NOT in sync';
  return `${what}; :${report.to} promoted ${(report.promotedAfterMs / 1000).toFixed(1)} s, ${settled}`;
}

/** The master port the sentinels report now, asking each until one answers. */
export async function currentMasterPort(group: RedisSentinelGroup): Promise<number> {
  let lastError: unknown;
  for (const sentinel of group.sentinels) {
    const client = new Redis(sentinel.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', group.name)) as [string, string];
      return Number(port);
    } catch (error) {
      lastError = error;
    } finally {
      client.disconnect();
    }
  }
  throw lastError;
}

function dataNode(group: RedisSentinelGroup, port: number): RedisServerProcess {
  const node = [group.master, group.replica].find((n) => n.port === port);
  if (!node) throw new Error(`no data node of the group listens on :${port}`);
  return node;
}

async function waitForNewMaster(group: RedisSentinelGroup, from: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const port = await currentMasterPort(group).catch(() => from);
    if (port !== from) return port;
    await sleep(100);
  }
  throw new Error(`the sentinels did not promote a new master within ${timeoutMs / 1000} s`);
}

/** True once `node` reports itself a replica whose link to its master is up. */
async function waitForReplicaInSync(node: RedisServerProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const client = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => undefined);
  try {
    while (Date.now() < deadline) {
      const info = await client.info('replication').catch(() => '');
      if (/role:slave/.test(info) && /master_link_status:up/.test(info)) return true;
      await sleep(200);
    }
    return false;
  } finally {
    client.disconnect();
  }
}
