import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisServerProcess } from '@test/harness';
import { HANG_LIMIT_MS } from './support/mixed-load.js';
import { LoadStack, runUnderLoad, summary } from './support/load-stack.js';

const OUTAGE_MS = 10_000;

describe('Redis unavailable for 10 s under cache + lock + transport load', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let server: RedisServerProcess | undefined;

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it.each([
    ['frozen (SIGSTOP: a partition, sockets open but silent)', 'pause'],
    ['stopped (SIGTERM) and restarted on the same port, AOF on', 'stop'],
  ] as const)('Redis %s: nothing hangs, nothing crashes, everything resumes by itself', async (title, how) => {
    const redis = await RedisServerProcess.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    server = redis;
    const stack = await LoadStack.start({ url: redis.url }, 'outage:');
    const run = await runUnderLoad(stack, async () => {
      if (how === 'pause') redis.pause();
      else await redis.stop({ keepDir: true });
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      if (how === 'pause') redis.resume();
      else await redis.restart();
    });
    process.stdout.write(
      summary(`Redis ${title}, ${OUTAGE_MS} ms`, run.report, {
        acknowledgedEvents: run.acknowledged,
        lostAcknowledgedEvents: run.lost.length,
        unhandledRejections: unhandled.length,
        closeMs: run.closeMs,
      }),
    );

    expect(run.notRecovered).toEqual([]);
    expect(run.lost).toEqual([]);
    expect(unhandled).toEqual([]);
    for (const kind of Object.values(run.report)) expect(kind.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    expect(run.report.cache.failed).toBe(0); // fail-open: callers get the loader's value while Redis is away
    expect(run.closeMs).toBeLessThan(15_000);
  });
});
