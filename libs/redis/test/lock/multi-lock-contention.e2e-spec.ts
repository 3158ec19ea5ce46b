import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  REDIS_URL,
  RedisServerProcess,
  uniqueKeyPrefix,
  useRedisClient,
  type ReadyWorker,
  whenReady,
} from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/multi-lock-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('multi-lock-contention');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const PROCESSES = 8;
const SECTIONS = 200;
const RESOURCES = ['r0', 'r1', 'r2', 'r3'];

interface Section {
  resources: string[];
  fences: Record<string, number>;
  /** Redis TIME, µs. */
  start: number;
  end: number;
}

interface WorkerReport {
  violations: number;
  sections: Section[];
}

/** Spawns the worker fixture and resolves once it printed "ready". */
function startWorker(prefix: string, lock: Record<string, unknown>): Promise<ReadyWorker> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      './src/runtime/register.mjs',
      fixture,
      String(SECTIONS),
      REDIS_URL,
      prefix,
      `${prefix}guard:`,
      RESOURCES.join(','),
      JSON.stringify(lock),
    ],
    { cwd: repoRoot },
  );
  return whenReady(child);
}

/** Runs the workers and checks exclusion per resource, fencing order per resource and the section count. */
async function contend(prefix: string, lock: Record<string, unknown>): Promise<void> {
  const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(prefix, lock)));
  const started = Date.now();
  workers.forEach(({ child }) => child.stdin.write('go\n'));
  // A deadlock would leave a worker waiting until its 120 s waitTimeout, then fail it: every worker exiting 0
  // within the test's timeout is the "no deadlock" bound.
  const outputs = await Promise.all(workers.map(({ output }) => output));
  const elapsed = Date.now() - started;
  const reports = outputs.map((out) => JSON.parse(out.trim().split('\n').pop() as string) as WorkerReport);

  const sections = reports.flatMap((r) => r.sections);
  expect(sections).toHaveLength(PROCESSES * SECTIONS);
  expect(reports.map((r) => r.violations)).toEqual(Array.from({ length: PROCESSES }, () => 0));
  expect(sections.every((s) => s.resources.length === 2 && s.resources[0] < s.resources[1])).toBe(true);

  for (const resource of RESOURCES) {
    const on = sections.filter((s) => s.resources.includes(resource)).sort((a, b) => a.start - b.start);
    expect(on.length).toBeGreaterThan(0);
    const overlaps = on.filter((s, i) => i > 0 && s.start < on[i - 1].end);
    expect({ resource, overlaps }).toEqual({ resource, overlaps: [] });
    const outOfOrder = on.filter((s, i) => i > 0 && s.fences[resource] <= on[i - 1].fences[resource]);
    expect({ resource, outOfOrder }).toEqual({ resource, outOfOrder: [] });
  }
  // Disjoint pairs (r0+r1 beside r2+r3) really ran at the same time: the locks are per resource, not global.
  const byStart = [...sections].sort((a, b) => a.start - b.start);
  const concurrent = byStart.filter((s, i) => i > 0 && s.start < byStart[i - 1].end).length;
  expect(concurrent).toBeGreaterThan(0);
  expect(await redis.keys(`${prefix}lock:*`)).toEqual(
    expect.not.arrayContaining([expect.stringMatching(/lock:\{r\d\}$/)]),
  );
  process.stderr.write(
    `multi-resource locks (${lock.nodes ? 'redlock' : 'single'}): ${sections.length} sections in ${elapsed} ms\n`,
  );
}

describe('LockService over several resources, separate OS processes', () => {
  it(`single node: ${PROCESSES} processes × ${SECTIONS} sections on random pairs of 4 resources in random order: no two holders, no deadlock, all completed`, async () => {
    await contend(`${keyPrefix}single:`, {});
  }, 300_000);

  describe('Redlock on 3 throwaway nodes', () => {
    let nodes: RedisServerProcess[];

    beforeAll(async () => {
      nodes = await Promise.all([0, 1, 2].map(() => RedisServerProcess.start()));
    });

    afterAll(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    });

    it(`${PROCESSES} processes × ${SECTIONS} sections on random pairs of 4 resources in random order: no two holders, no deadlock, all completed`, async () => {
      await contend(`${keyPrefix}redlock:`, { nodes: nodes.map((n) => n.url) });
    }, 400_000);
  });
});
