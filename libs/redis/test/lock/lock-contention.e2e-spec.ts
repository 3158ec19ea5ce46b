import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { REDIS_URL, deleteKeysWithPrefix, uniqueKeyPrefix } from '../../../../test/harness/index.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('lock-contention');
const PROCESSES = 8;
const SECTIONS = 200;

interface Section {
  start: number;
  end: number;
  fence: number;
  pid: number;
}

/** Spawns the worker fixture and resolves once it printed "ready". */
function startWorker(counterKey: string): Promise<{ child: ChildProcessWithoutNullStreams; output: Promise<string> }> {
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
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = new Promise<string>((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`worker exited ${code}: ${stderr}`)),
    ),
  );
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.startsWith('ready\n')) resolve({ child, output });
    });
    output.catch(reject);
  });
}

describe('LockService under contention (separate OS processes)', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, keyPrefix);
    await redis.quit();
  });

  it(`${PROCESSES} processes × ${SECTIONS} read-modify-write sections: counter exact, no overlap, fencing tokens increasing`, async () => {
    const counterKey = `${keyPrefix}counter-value`;
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(counterKey)));
    const started = Date.now();
    workers.forEach(({ child }) => child.stdin.write('go\n'));
    const outputs = await Promise.all(workers.map(({ output }) => output));
    const elapsed = Date.now() - started;

    const sections: Section[] = outputs
      .flatMap((out) => JSON.parse(out.trim().split('\n').pop() as string) as Section[])
      .sort((a, b) => a.start - b.start);
    expect(sections).toHaveLength(PROCESSES * SECTIONS);
    expect(Number(await redis.get(counterKey))).toBe(PROCESSES * SECTIONS);
    const overlaps = sections.filter((s, i) => i > 0 && s.start < sections[i - 1].end);
    expect(overlaps).toEqual([]);
    const outOfOrder = sections.filter((s, i) => i > 0 && s.fence <= sections[i - 1].fence);
    expect(outOfOrder).toEqual([]);
    // The processes really contended: the lock changed hands between processes most of the time.
    const handovers = sections.filter((s, i) => i > 0 && s.pid !== sections[i - 1].pid).length;
    expect(handovers).toBeGreaterThan(SECTIONS);
    process.stderr.write(`lock contention: ${sections.length} sections in ${elapsed} ms\n`);
  }, 180_000);
});
