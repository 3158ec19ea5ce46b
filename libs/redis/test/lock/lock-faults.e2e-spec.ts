import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LockLostError, LockService, RedisModule } from '@app/redis';
import {
  REDIS_URL,
  RedisServerProcess,
  eventually,
  uniqueKeyPrefix,
  useTestApps,
} from '../../../../test/harness/index.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('lock-faults');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockService under faults (single node)', () => {
  const testApps = useTestApps(keyPrefix);

  it('a holder SIGKILLed while holding: another process gets the lock after the TTL, not before', async () => {
    const ttl = 1_500;
    const child = spawn(
      process.execPath,
      ['--import', './src/runtime/register.mjs', fixture, 'hold', String(ttl), REDIS_URL, keyPrefix, 'crash', '-'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await exited;
    const pttl = await testApps.redis.pttl(`${keyPrefix}lock:{crash}`);
    const expiresAt = Date.now() + pttl;
    expect(pttl).toBeGreaterThan(0);

    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix })]);
    const locks = app.get(LockService);
    const early = await locks.tryAcquire('crash');
    expect(early).toBeNull();
    const lock = await locks.acquire('crash', { waitTimeout: 10_000, retryDelay: 20, retryJitter: 10 });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 5);
    await lock.release();
  });

  describe('with a throwaway redis-server', () => {
    let node: RedisServerProcess;

    beforeAll(async () => {
      node = await RedisServerProcess.start();
    });

    afterAll(async () => {
      await node.stop();
    });

    it('a holder whose Redis is paused past the TTL: signal aborts with LockLostError, release() spares the new owner', async () => {
      const ttl = 400;
      const holderApp = await testApps.boot([RedisModule.forRoot({ url: node.url, keyPrefix })]);
      const rivalApp = await testApps.boot([RedisModule.forRoot({ url: node.url, keyPrefix })]);
      const lock = await holderApp.get(LockService).acquire('paused', { ttl });

      node.pause();
      try {
        expect(await eventually(() => lock.signal.aborted, 3_000, 10)).toBe(true);
        expect(lock.signal.reason).toBeInstanceOf(LockLostError);
        expect(lock.signal.reason).toMatchObject({ reason: 'expired', resource: 'paused' });
        await sleep(ttl);
      } finally {
        node.resume();
      }

      const next = await rivalApp.get(LockService).acquire('paused', { ttl: 5_000, waitTimeout: 5_000 });
      expect(next.fencingToken).toBeGreaterThan(lock.fencingToken);
      expect(await lock.release()).toBe(false);
      const observer = new Redis(node.url);
      try {
        expect(await observer.get(`${keyPrefix}lock:{paused}`)).toBe(next.token);
      } finally {
        observer.disconnect();
      }
      expect(next.signal.aborted).toBe(false);
      await next.release();
    });
  });
});
