import { describe, expect, it } from '@jest/globals';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/schedule-worker.ts', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a replica and resolves once its jobs are scheduled. */
function startReplica(keyPrefix: string, clockOffsetMs: number): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(
    process.execPath,
    ['--import', './src/runtime/register.mjs', fixture, REDIS_URL, keyPrefix, String(clockOffsetMs)],
    { cwd: repoRoot },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`replica exited ${code}: ${stderr}`)));
  });
}

async function stop(children: ChildProcessWithoutNullStreams[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

describe('@OncePerCluster across replicas (separate OS processes)', () => {
  const runs = async (redis: ReturnType<typeof useTestApps>['redis'], keyPrefix: string, job: string) => {
    const counts = new Map<number, number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}ran:${job}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) counts.set(Number(key.split(':').pop()), Number(await redis.get(key)));
    } while (cursor !== '0');
    return counts;
  };

  /** Runs 3 replicas for `seconds` s and returns the cron and interval runs per tick, and the window all were alive. */
  async function runReplicas(keyPrefix: string, offsets: number[], seconds: number) {
    const children: ChildProcessWithoutNullStreams[] = [];
    try {
      children.push(...(await Promise.all(offsets.map((offset) => startReplica(keyPrefix, offset)))));
      const from = Date.now();
      await sleep(seconds * 1_000);
      const to = Date.now();
      return { from, to };
    } finally {
      await stop(children);
    }
  }

  describe('3 replicas, one job every second, for 10 s', () => {
    const keyPrefix = uniqueKeyPrefix('once-per-cluster');
    const testApps = useTestApps(keyPrefix);

    it('every tick while all replicas were alive ran exactly once in total; fencing tokens increase', async () => {
      const { from, to } = await runReplicas(keyPrefix, [0, 0, 0], 10);
      const cron = await runs(testApps.redis, keyPrefix, 'cron');
      // Ticks wholly inside the window: all three replicas were scheduled and alive when they fired.
      const expected: number[] = [];
      for (let tick = Math.ceil(from / 1_000) * 1_000; tick + 1_000 <= to; tick += 1_000) expected.push(tick);
      expect(expected.length).toBeGreaterThanOrEqual(9);
      expect(expected.map((tick) => [tick, cron.get(tick) ?? 0])).toEqual(expected.map((tick) => [tick, 1]));
      // Outside the window (startup, shutdown) a tick may be missed, never run twice.
      expect([...cron.values()].filter((count) => count > 1)).toEqual([]);
      const fences = (await testApps.redis.lrange(`${keyPrefix}fence:cron`, 0, -1)).map(Number);
      expect(fences.length).toBe(cron.size);
      expect(fences.filter((fence, i) => i > 0 && fence <= fences[i - 1])).toEqual([]);
      // The @Interval job (decorators in the other order): its 1 s windows never ran twice.
      const interval = await runs(testApps.redis, keyPrefix, 'interval');
      expect(interval.size).toBeGreaterThanOrEqual(5);
      expect([...interval.values()].filter((count) => count > 1)).toEqual([]);
    }, 60_000);
  });

  describe('3 replicas whose clocks differ by up to 1.1 s (offsets 0, +400 ms, -700 ms)', () => {
    const keyPrefix = uniqueKeyPrefix('once-per-cluster-skew');
    const testApps = useTestApps(keyPrefix);

    it('still runs every tick exactly once: ticks are keyed by scheduled time, the claim outlives the skew', async () => {
      const { from, to } = await runReplicas(keyPrefix, [0, 400, -700], 6);
      const cron = await runs(testApps.redis, keyPrefix, 'cron');
      // Scheduled times every replica fired within the window, whatever its clock.
      const expected: number[] = [];
      for (let tick = Math.ceil((from + 400) / 1_000) * 1_000; tick + 1_000 <= to - 700; tick += 1_000) {
        expected.push(tick);
      }
      expect(expected.length).toBeGreaterThanOrEqual(3);
      expect(expected.map((tick) => [tick, cron.get(tick) ?? 0])).toEqual(expected.map((tick) => [tick, 1]));
      expect([...cron.values()].filter((count) => count > 1)).toEqual([]);
    }, 60_000);
  });
});
