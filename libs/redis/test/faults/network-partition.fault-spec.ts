import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisModule } from '@app/redis';
import { RedisHealthIndicator } from '@app/redis/health';
import { RedisServerProcess, TcpProxy, bootRedisModule, bootstrapTestingApp } from '@test/harness';
import { HANG_LIMIT_MS } from './support/mixed-load.js';
import { LoadStack, runUnderLoad, summary } from './support/load-stack.js';
import { HEALTH_POLL_MS, HEALTH_TIMEOUT_MS, HealthTimeline } from './support/health-timeline.js';
import { LockSections } from './support/lock-sections.js';

const PARTITION_MS = 10_000;
/** The load's cache `commandTimeout` (the module default, see docs/RELIABILITY.md). */
const COMMAND_TIMEOUT_MS = 250;
/**
 * Margin over each bound for a loaded 2-core machine (event-loop lag, timer ticks). Every bound stays far below the
 * 10 s partition, so a call that waited for the partition to end would still fail the test.
 */
const MARGIN_MS = 1_250;
/** A cache call fails open within `commandTimeout` plus the margin. */
const CACHE_BOUND_MS = COMMAND_TIMEOUT_MS + MARGIN_MS;
/** A lock-loop iteration: `acquire` (waitTimeout 500) then `release()` (releaseTimeout 1 s), plus the margin. */
const LOCK_BOUND_MS = 500 + 1_000 + MARGIN_MS;
/** Health down within one poll interval plus the probe's timeout, plus the margin. */
const HEALTH_DOWN_BOUND_MS = HEALTH_POLL_MS + HEALTH_TIMEOUT_MS + MARGIN_MS;
/**
 * After healing, every kind of call and health are back within this: the sockets never closed, so nothing has to
 * reconnect, but a connection the library gave up on reconnects with a delay of up to 5 s.
 */
const RECOVERY_BOUND_MS = 5_000 + 2 * MARGIN_MS;

describe('network partition: Redis black-holed for 10 s (sockets open, no bytes, TCP waits) under load', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let server: RedisServerProcess | undefined;
  let proxy: TcpProxy | undefined;
  const apps: INestApplicationContext[] = [];
  const redlockNodes: RedisServerProcess[] = [];

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await proxy?.close();
    await server?.stop();
    for (const node of redlockNodes.splice(0)) await node.stop();
    proxy = undefined;
    server = undefined;
  });

  it('cache fails open, locks fail closed without overlap, health goes down, all recovers by itself, no acknowledged event lost', async () => {
    const redis = await RedisServerProcess.start();
    server = redis;
    const partition = await TcpProxy.start({ port: redis.port });
    proxy = partition;
    const keyPrefix = 'partition:';
    const stack = await LoadStack.start({ url: partition.url }, keyPrefix);
    const partitionedApp = await bootstrapTestingApp(
      [RedisModule.forRoot({ url: partition.url, keyPrefix }), TerminusModule],
      [RedisHealthIndicator],
    );
    const directApp = await bootRedisModule({ url: redis.url, keyPrefix });
    apps.push(partitionedApp, directApp);
    const health = new HealthTimeline(partitionedApp);
    // The contender behind the partition is an app of its own, not the load's: runUnderLoad closes the load's app,
    // and shutting down releases held locks under a running section.
    const sections = new LockSections({ partitioned: partitionedApp, direct: directApp }, 'section');

    let partitionedAt = 0;
    let healedAt = 0;
    let partitionedAtClock = 0;
    const run = await runUnderLoad(stack, async () => {
      partitionedAt = Date.now();
      partitionedAtClock = performance.now();
      partition.blackHole();
      await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
      partition.heal();
      healedAt = Date.now();
    });
    await sections.stop();
    await health.stop();
    const healthDownMs = health.firstAfter(partitionedAt, false);
    const healthUpMs = health.firstAfter(healedAt, true);
    const recoveryMs = Math.max(...Object.values(run.report).map((r) => r.recoveredAfterMs ?? Infinity));
    const overlaps = sections.overlaps();
    process.stdout.write(
      summary(`Network partition: Redis black-holed (TCP proxy), ${PARTITION_MS} ms`, run.report, {
        healthDownAfterMs: healthDownMs,
        healthUpAfterHealMs: healthUpMs,
        recoveryAfterHealMs: recoveryMs,
        lockSections: Object.fromEntries(sections.acquired),
        overlappingSections: overlaps.length,
        // Overlaps, if any, as [holder, start, end] in ms from the partition's start, for diagnosis.
        overlapsFromPartitionMs: overlaps
          .slice(0, 3)
          .map((pair) =>
            pair.map((s) => [
              s.holder,
              Math.round(s.from - partitionedAtClock),
              Math.round(s.to - partitionedAtClock),
              s.fence,
              s.validForMs,
            ]),
          ),
        acknowledgedEvents: run.acknowledged,
        lostAcknowledgedEvents: run.lost.length,
        unhandledRejections: unhandled.length,
        closeMs: run.closeMs,
      }),
    );

    expect(run.notRecovered).toEqual([]);
    expect(run.lost).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(run.closeMs).toBeLessThan(15_000);
    for (const kind of Object.values(run.report)) expect(kind.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    // Fail-open cache: no caller saw an error, and none waited much past commandTimeout.
    expect(run.report.cache.failed).toBe(0);
    expect(run.report.cache.slowestMs).toBeLessThan(CACHE_BOUND_MS);
    // Fail-closed locks: acquisitions failed during the partition, each within its bound, and never two holders.
    expect(run.report.lock.failedInWindow).toBeGreaterThan(0);
    expect(run.report.lock.slowestMs).toBeLessThan(LOCK_BOUND_MS);
    expect(overlaps).toEqual([]);
    expect(sections.acquired.get('direct')).toBeGreaterThan(0);
    expect(sections.acquired.get('partitioned')).toBeGreaterThan(0);
    // Health down while partitioned, up again after healing, by itself.
    expect(healthDownMs).not.toBeNull();
    expect(healthDownMs!).toBeLessThan(HEALTH_DOWN_BOUND_MS);
    expect(healthUpMs).not.toBeNull();
    expect(healthUpMs!).toBeLessThan(RECOVERY_BOUND_MS);
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  });

  it('Redlock with one node of three black-holed: locks are still granted by the majority, sections never overlap', async () => {
    const nodes = await Promise.all([0, 1, 2].map(() => RedisServerProcess.start()));
    redlockNodes.push(...nodes);
    const partition = await TcpProxy.start({ port: nodes[0].port });
    proxy = partition;
    const lock = { nodes: [partition.url, nodes[1].url, nodes[2].url] };
    for (let i = 0; i < 2; i++) {
      apps.push(await bootRedisModule({ url: nodes[1].url, keyPrefix: 'redlock-partition:', lock }));
    }
    const sections = new LockSections({ a: apps[0], b: apps[1] }, 'section');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const from = performance.now();
    partition.blackHole();
    await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
    partition.heal();
    const to = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await sections.stop();
    const during = sections.sections.filter((s) => s.from >= from && s.to <= to);
    const gaps = during.slice(1).map((s, i) => s.from - during[i].to);
    const overlaps = sections.overlaps();
    process.stdout.write(
      `\n[fault] Redlock, 1 node of 3 black-holed (TCP proxy), ${PARTITION_MS} ms\n  ` +
        JSON.stringify({
          sections: sections.sections.length,
          sectionsDuringPartition: during.length,
          longestGapBetweenSectionsMs: Math.round(Math.max(0, ...gaps)),
          overlappingSections: overlaps.length,
          unhandledRejections: unhandled.length,
        }) +
        '\n',
    );

    expect(overlaps).toEqual([]);
    expect(unhandled).toEqual([]);
    // The majority keeps granting: sections go on through the partition, not only before and after it.
    expect(during.length).toBeGreaterThan(10);
  });
});
