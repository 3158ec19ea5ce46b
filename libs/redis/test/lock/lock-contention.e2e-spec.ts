import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REDIS_URL, uniqueKeyPrefix, useRedisClient, type ReadyWorker, whenReady } from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('lock-contention');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const PROCESSES = 8;
const SECTIONS = 200;

interface Section {
  start: number;
  end: number;
  fence: number;
  pid: number;
}

/** Spawns the worker fixture and resolves once it printed "ready". */
function startWorker(counterKey: string): Promise<ReadyWorker> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      './src/runtime/register.mjs',
      fixture,
      'contend',
      String(SECTIONS),
      REDIS_URL,
      keyPrefix,
      'counter',
      counterKey,
    ],
    { cwd: repoRoot },
  );
  return whenReady(child);
}

describe('LockService under contention (separate OS processes)', () => {
  it(`${PROCESSES} processes × ${SECTIONS} read-modify-write sections: counter exact, no overlap, fencing tokens increasing`, async () => {
    const counterKey = `${keyPrefix}counter-value`;
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(counterKey)));
    const started = Date.now();
    workers.forEach(({ child }) => child.stdin.write('go\n'));
    const outputs = await Promise.all(workers.map(({ output }) => output));
    const elapsed = Date.now() - started;

    // In the lock's own order (fencing tokens): each section starts no earlier than the one before it ended, which
    // proves both no overlap and tokens increasing with time. Sections are timed with Date.now(), the clock every
    // process shares, to the millisecond: a section may start in the millisecond the previous one ended, and
    // ordering by start time would put such ties (and zero-length sections) in an arbitrary order.
    const sections: Section[] = outputs
      .flatMap((out) => JSON.parse(out.trim().split('\n').pop() as string) as Section[])
      .sort((a, b) => a.fence - b.fence);
    expect(sections).toHaveLength(PROCESSES * SECTIONS);
    expect(Number(await redis.get(counterKey))).toBe(PROCESSES * SECTIONS);
    const sharedTokens = sections.filter((s, i) => i > 0 && s.fence === sections[i - 1].fence);
    expect(sharedTokens).toEqual([]);
    const overlaps = sections.filter((s, i) => i > 0 && s.start < sections[i - 1].end);
    expect(overlaps).toEqual([]);
    // The processes really contended: the lock changed hands between processes most of the time.
    const handovers = sections.filter((s, i) => i > 0 && s.pid !== sections[i - 1].pid).length;
    expect(handovers).toBeGreaterThan(SECTIONS);
    process.stderr.write(`lock contention: ${sections.length} sections in ${elapsed} ms\n`);
  }, 180_000);
});
