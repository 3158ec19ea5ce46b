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
  /** When it never was: what each sentinel and data node said at the deadline (`groupView`). */
  stuck?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Restarts the current master: SIGTERM, wait until the sentinels promote the replica, start it again on the same
 * port (it comes back empty, as the group's nodes persist nothing, and the sentinels turn it into a replica of the
 * new master, which it syncs from).
 *
 * An empty master that comes back too early can wipe the replica, as Redis' replication docs warn for masters
 * without persistence: a sentinel that still names the old master sees the promoted node as its replica reporting
 * "master" and turns it back into one, and its full sync from the empty node erases every key. The first sentinel
 * names the promoted replica while the failover is still running, before the others know. The demo soak failed in
 * about one run of eight with what that explains (fencing tokens refused as stale, the workers' event records gone,
 * the restarted node never seen as a replica). So the restart waits until every sentinel names the new master.
 */
export async function restartMaster(group: RedisSentinelGroup): Promise<SentinelFaultReport> {
  const startedAt = Date.now();
  const from = await currentMasterPort(group);
  const master = dataNode(group, from);
  await master.stop({ keepDir: true });
  const to = await waitForNewMaster(group, from, 60_000);
  const promotedAfterMs = Date.now() - startedAt;
  await waitForEverySentinel(group, to, 30_000);
  await master.restart();
  return settle(group, { kind: 'restart', from, to, promotedAfterMs }, master, startedAt);
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
  return settle(group, { kind: 'failover', from, to, promotedAfterMs }, dataNode(group, from), startedAt);
}

/** Completes a fault's report once the old master is a replica in sync again, or with the group's view at the deadline. */
async function settle(
  group: RedisSentinelGroup,
  fault: Omit<SentinelFaultReport, 'settledAfterMs' | 'stuck'>,
  oldMaster: RedisServerProcess,
  startedAt: number,
): Promise<SentinelFaultReport> {
  const settled = await waitForReplicaInSync(oldMaster, 60_000);
  if (settled) return { ...fault, settledAfterMs: Date.now() - startedAt };
  return { ...fault, settledAfterMs: 0, stuck: await groupView(group) };
}

export function describeFault(report: SentinelFaultReport): string {
  const what =
    report.kind === 'restart' ? `master :${report.from} restarted` : `SENTINEL FAILOVER from :${report.from}`;
  const settled =
    report.settledAfterMs > 0
      ? `replica in sync ${(report.settledAfterMs / 1000).toFixed(1)} s`
      : `replica NOT in sync (${report.stuck ?? 'no view'})`;
  return `${what}; :${report.to} promoted ${(report.promotedAfterMs / 1000).toFixed(1)} s, ${settled}`;
}

/** The master port the sentinels report now, asking each until one answers. */
export async function currentMasterPort(group: RedisSentinelGroup): Promise<number> {
  let lastError: unknown;
  for (const sentinel of group.sentinels) {
    try {
      return await group.masterNamedBy(sentinel);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * What each sentinel names as master and each data node says of itself (role, and a replica's master and link), in
 * one line: `sentinels :A,:A,:B; :A master (2 replicas); :B slave of :A link down`.
 */
async function groupView(group: RedisSentinelGroup): Promise<string> {
  const views = await sentinelViews(group);
  const nodes = await Promise.all(
    [group.master, group.replica].map(async (node) => {
      const info = await ask(node.port, (client) => client.info('replication'));
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
      const role = field('role');
      if (role === 'master') return `:${node.port} master (${field('connected_slaves')} replicas)`;
      if (role === 'slave') {
        return `:${node.port} slave of :${field('master_port')} link ${field('master_link_status')}`;
      }
      return `:${node.port} ${info}`;
    }),
  );
  return `sentinels ${views.join(',')}; ${nodes.join('; ')}`;
}

/** What each sentinel names as the group's master: `:port`, or why it could not tell. */
function sentinelViews(group: RedisSentinelGroup): Promise<string[]> {
  return Promise.all(
    group.sentinels.map((sentinel) =>
      group.masterNamedBy(sentinel).then(
        (port) => `:${port}`,
        (error: unknown) => `unreachable (${errorMessage(error)})`,
      ),
    ),
  );
}

/** Runs `run` on a short-lived client of the server on `port`; its failure becomes the answer's text. */
async function ask(port: number, run: (client: Redis) => Promise<string>): Promise<string> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } catch (error) {
    return `unreachable (${errorMessage(error)})`;
  } finally {
    client.disconnect();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/** Waits until every sentinel names `port` as the master (the failover is over for all of them). */
async function waitForEverySentinel(group: RedisSentinelGroup, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await sentinelViews(group);
    if (view.every((named) => named === `:${port}`)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the sentinels did not all name :${port} as master within ${timeoutMs / 1000} s: ${view.join(',')}`,
      );
    }
    await sleep(100);
  }
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
