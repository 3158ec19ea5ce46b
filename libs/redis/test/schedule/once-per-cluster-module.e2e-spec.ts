import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cron, Timeout } from '@nestjs/schedule';
import { RedisModule, RedisOptionsError } from '@app/redis';
import { ClusterTicks, OncePerCluster, RedisScheduleModule } from '@app/redis/schedule';
import { REDIS_URL, RedisServerProcess, silentLogger, uniqueKeyPrefix, useTestApps } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('once-per-cluster-module');
/** One-shot cron ticks in the future: ScheduleModule is not imported, so only direct calls run the methods. */
const AT = new Date(Date.now() + 3_600_000);
const LATER = new Date(Date.now() + 7_200_000);

@Injectable()
class TimeoutWithoutPeriod {
  @OncePerCluster()
  @Timeout(60_000)
  warmUp(): void {}
}

@Module({ providers: [TimeoutWithoutPeriod] })
class TimeoutModule {}

@Injectable()
class Report {
  runs = 0;
  lastTick?: number;

  constructor(private readonly ticks: ClusterTicks) {}

  @OncePerCluster({ name: 'report' })
  @Cron(AT)
  send(): string {
    this.runs++;
    this.lastTick = this.ticks.current()?.tick;
    return 'sent';
  }

  @OncePerCluster({ name: 'report-later' })
  @Cron(LATER)
  sendLater(): string {
    this.runs++;
    return 'sent';
  }
}

@Module({ providers: [Report] })
class ReportModule {}

describe('@OncePerCluster in one process', () => {
  const testApps = useTestApps(keyPrefix);

  it('two replicas calling the same tick: one runs it, the other skips (resolves undefined)', async () => {
    const boot = async () =>
      (
        await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RedisScheduleModule, ReportModule])
      ).get(Report);
    const [a, b] = [await boot(), await boot()];
    const results = await Promise.all([a.send(), b.send()]);
    expect(results.sort()).toEqual(['sent', undefined]);
    expect(a.runs + b.runs).toBe(1);
    expect(a.lastTick ?? b.lastTick).toBe(AT.getTime());
    expect(await testApps.redis.exists(`${keyPrefix}schedule:{report}:tick:${AT.getTime()}`)).toBe(1);
  });

  it('fails startup for a @Timeout job without a period, naming the field', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RedisScheduleModule, TimeoutModule],
    })
      .setLogger(silentLogger)
      .compile();
    const error = await moduleRef.init().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    // Startup failed in an onModuleInit hook: close what the hooks before it opened.
    await moduleRef.close();
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('@OncePerCluster on TimeoutWithoutPeriod.warmUp().period');
  });

  describe('with a throwaway redis-server', () => {
    let node: RedisServerProcess;

    beforeAll(async () => {
      node = await RedisServerProcess.start();
    });

    afterAll(async () => {
      await node.stop();
    });

    it('Redis paused: the tick is skipped on this replica (the method does not run, the call settles); resumed: the next tick runs', async () => {
      const report = (
        await testApps.boot([RedisModule.forRoot({ url: node.url, keyPrefix }), RedisScheduleModule, ReportModule])
      ).get(Report);
      node.pause();
      try {
        await expect(report.send()).resolves.toBeUndefined();
        expect(report.runs).toBe(0);
      } finally {
        node.resume();
      }
      await expect(report.sendLater()).resolves.toBe('sent');
      expect(report.runs).toBe(1);
    }, 30_000);
  });
});
