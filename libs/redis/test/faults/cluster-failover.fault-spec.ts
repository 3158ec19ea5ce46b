import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { RedisClusterProcesses } from '@test/harness';
import { HANG_LIMIT_MS } from './support/mixed-load.js';
import { LoadStack, NS, runUnderLoad, summary } from './support/load-stack.js';

const keyPrefix = 'cluster-failover:';
/** The stream the load's durable emits go to: its master is the one killed. */
const STREAM_KEY = `${keyPrefix}stream:{${NS}.created}`;

describe('Redis Cluster (3 masters + 3 replicas): a master killed under cache + lock + transport load', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let cluster: RedisClusterProcesses | undefined;

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  /**
   * Starts a fresh cluster and the load on it, kills (SIGKILL) the master holding the emits' stream, waits until its
   * replica serves the slot, then restarts the old master (it rejoins as a replica, so the new master has a replica
   * to acknowledge writes again) and measures how the load came through.
   */
  async function failover(title: string, streamsClient: Record<string, unknown>) {
    const processes = await RedisClusterProcesses.start(3, 1);
    cluster = processes;
    const observer = new Cluster(
      processes.addresses.map((a) => ({ host: '127.0.0.1', port: Number(a.split(':')[1]) })),
    );
    const slot = (await observer.cluster('KEYSLOT', STREAM_KEY)) as number;
    observer.disconnect();
    const stack = await LoadStack.start({ cluster: { nodes: processes.addresses } }, keyPrefix, streamsClient);
    let promotedAfterMs = 0;
    let rejoinedAfterMs = 0;
    const run = await runUnderLoad(stack, async () => {
      const master = await processes.nodeServingSlot(slot);
      await master.kill();
      promotedAfterMs = await processes.waitUntilFailedOver(slot, master);
      const restartedAt = Date.now();
      await master.restart();
      await processes.waitUntilOk();
      await processes.waitUntilReplicasSynced(3);
      rejoinedAfterMs = Date.now() - restartedAt;
    });
    const figures = {
      promotedAfterMs,
      oldMasterRejoinedAsReplicaAfterMs: rejoinedAfterMs,
      acknowledgedEvents: run.acknowledged,
      lostAcknowledgedEvents: run.lost.length,
      unhandledRejections: unhandled.length,
      closeMs: run.closeMs,
    };
    process.stdout.write(summary(title, run.report, figures));
    return run;
  }

  it('without durability: cache fails open and recovers, locks fail closed, the streams transport keeps delivering', async () => {
    const run = await failover('Cluster failover (master of the stream SIGKILLed), no durability option', {});

    expect(run.notRecovered).toEqual([]);
    expect(unhandled).toEqual([]);
    for (const kind of Object.values(run.report)) expect(kind.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    expect(run.report.cache.failed).toBe(0);
    // Every lock call either acquired or failed closed with an error; none hung (slowest checked above).
    for (const error of run.report.lock.errors) expect(error).toMatch(/LockNotAcquiredError|E_LOCK/);
    expect(run.report.emit.recoveredAfterMs).not.toBeNull();
    // Replication is asynchronous: an emit acknowledged by the dying master may not have reached its replica.
    // Reported (docs/RELIABILITY.md) and bounded here; see the durability case for the guarantee.
    expect(run.lost.length).toBeLessThanOrEqual(5);
  });

  it('with streams.durability { replicas: 1 }: no acknowledged emit is lost', async () => {
    const run = await failover(
      'Cluster failover (master of the stream SIGKILLed), streams.durability { replicas: 1 }',
      {
        streams: { durability: { replicas: 1, timeout: 500 } },
      },
    );

    expect(run.notRecovered).toEqual([]);
    expect(unhandled).toEqual([]);
    for (const kind of Object.values(run.report)) expect(kind.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    expect(run.report.cache.failed).toBe(0);
    expect(run.lost).toEqual([]);
  });
});
