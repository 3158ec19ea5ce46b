import { describe, expect, it } from '@jest/globals';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisModule } from '@app/redis';
import { RedisSemaphoreModule, SemaphoreService } from '@app/redis/semaphore';
import { REDIS_URL, type ReadyWorker, maxOverlap, uniqueKeyPrefix, useTestApps, whenReady } from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/semaphore-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('semaphore-processes');
const PROCESSES = 8;
const PERMITS = 3;
const SECTIONS = 40;

interface Section {
  start: number;
  end: number;
  fence: number;
  pid: number;
}

function spawnWorker(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', './src/runtime/register.mjs', fixture, ...args], { cwd: repoRoot });
}

/** Starts a `contend` worker and resolves once it printed "ready". */
function startContender(name: string): Promise<ReadyWorker> {
  const child = spawnWorker(['contend', String(SECTIONS), REDIS_URL, keyPrefix, name, String(PERMITS)]);
  return whenReady(child);
}

describe('SemaphoreService across OS processes', () => {
  const testApps = useTestApps(keyPrefix);

  it(`${PROCESSES} processes on a ${PERMITS}-permit semaphore: never more than ${PERMITS} holders at once, fencing tokens unique`, async () => {
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startContender('pool')));
    workers.forEach(({ child }) => child.stdin.write('go\n'));
    const outputs = await Promise.all(workers.map(({ output }) => output));
    const sections = outputs.flatMap((out) => JSON.parse(out.trim().split('\n').pop() as string) as Section[]);

    expect(sections).toHaveLength(PROCESSES * SECTIONS);
    expect(maxOverlap(sections)).toBeLessThanOrEqual(PERMITS);
    // The processes really contended: all permits were in use at some instant.
    expect(maxOverlap(sections)).toBe(PERMITS);
    expect(new Set(sections.map((s) => s.fence)).size).toBe(sections.length);
    // Nothing is left behind: no holder, no waiter.
    expect(await testApps.redis.exists(`${keyPrefix}semaphore:{pool}:holders`)).toBe(0);
    expect(await testApps.redis.llen(`${keyPrefix}semaphore:{pool}:queue`)).toBe(0);
  }, 180_000);

  it('a holder SIGKILLed while holding: its permit is free again after the ttl, not before', async () => {
    // The app boots first and the ttl leaves seconds between the kill and the first tryAcquire: with a 1.5 s ttl and
    // the boot in between, a loaded CI machine reached the expiry before the tryAcquire once.
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix }), RedisSemaphoreModule]);
    const semaphores = app.get(SemaphoreService);
    const ttl = 4_000;
    const child = spawnWorker(['hold', String(ttl), REDIS_URL, keyPrefix, 'crash', '1']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await exited;
    const holders = `${keyPrefix}semaphore:{crash}:holders`;
    const [score] = (await testApps.redis.zrange(holders, 0, -1, 'WITHSCORES')).slice(1);
    const [seconds, micros] = await testApps.redis.time();
    const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const expiresAt = Date.now() + (Number(score) - serverNow);

    expect(await semaphores.tryAcquire('crash', { permits: 1 })).toBeNull();
    expect(Date.now()).toBeLessThan(expiresAt); // that refusal was before the expiry, so it proves something
    const permit = await semaphores.acquire('crash', { permits: 1, waitTimeout: 10_000, retryDelay: 20 });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 5);
    await permit.release();
  }, 60_000);
});
