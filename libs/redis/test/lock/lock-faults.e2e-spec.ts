import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type Lock, LockLostError, LockService, RedisModule } from '@app/redis';
import { REDIS_URL, RedisServerProcess, eventually, uniqueKeyPrefix, useTestApps } from '@test/harness';
import { SingleNodeLocks } from '../../src/lock/single-node-locks.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('lock-faults');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockService under faults (single node)', () => {
  const testApps = useTestApps(keyPrefix);

  it('a holder SIGKILLed while holding: another process gets the lock after the TTL, not before', async () => {
    // Booted first, and a ttl well above a loaded machine's stalls: the early tryAcquire must run while the lock of
    // the killed holder is still alive.
    const app = await testApps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix })]);
    const locks = app.get(LockService);
    const ttl = 4_000;
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

    it('a wake-up SUBSCRIBE that fails (Redis failing over) is retried without stacking message listeners', async () => {
      const client = new Redis(node.url, { retryStrategy: () => 20 });
      // No offline queue: while the node is down every SUBSCRIBE fails at once, as it does while a failover drops it.
      const subscriber = new Redis(node.url, { enableOfflineQueue: false, retryStrategy: () => 20 });
      const wakes: string[] = [];
      const channel = `${keyPrefix}wake-retry`;
      const locks = new SingleNodeLocks(
        client,
        async () => subscriber,
        (_c, message) => void wakes.push(message),
        {
          driftFactor: 0.01,
          channel,
          instance: 'i1',
          sharded: false,
        },
      );
      try {
        await node.kill();
        await eventually(() => subscriber.status !== 'ready', 2_000);
        for (let attempt = 0; attempt < 12; attempt++) await expect(locks.ensureSubscribed()).rejects.toThrow();
        expect(subscriber.listenerCount('message')).toBe(1);

        await node.restart();
        await eventually(() => subscriber.status === 'ready', 5_000);
        await locks.ensureSubscribed();
        await client.publish(`${channel}:i1`, 'token:1');
        await eventually(() => wakes.length > 0, 2_000);
        await sleep(100);
        expect(wakes).toEqual(['token:1']);
      } finally {
        await locks.close();
        subscriber.disconnect();
        client.disconnect();
      }
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

    it('release() settles within releaseTimeout while Redis is paused, and stops the watchdog', async () => {
      const ttl = 400;
      const releaseTimeout = 300;
      const app = await testApps.boot([RedisModule.forRoot({ url: node.url, keyPrefix, lock: { releaseTimeout } })]);
      const lock = await app.get(LockService).acquire('release-paused', { ttl });

      node.pause();
      try {
        const started = Date.now();
        const error = await lock.release().catch((e: unknown) => e);
        expect(Date.now() - started).toBeGreaterThanOrEqual(releaseTimeout - 5);
        expect(Date.now() - started).toBeLessThan(releaseTimeout + 250);
        expect(error).toMatchObject({ code: 'E_LOCK_RELEASE_TIMEOUT', context: { resource: 'release-paused' } });
        expect(await lock.release()).toBe(false);
        // No watchdog left: a running one would fail to renew and abort the signal once the ttl ran out.
        await sleep(2 * ttl);
        expect(lock.signal.aborted).toBe(false);
      } finally {
        node.resume();
      }
      // The late release is owner-checked and runs once Redis answers again.
      const observer = new Redis(node.url);
      try {
        const gone = await eventually(async () => (await observer.exists(`${keyPrefix}lock:{release-paused}`)) === 0);
        expect(gone).toBe(true);
      } finally {
        observer.disconnect();
      }
    });

    it('using() (and so @WithLock) returns within releaseTimeout when Redis stops answering during the work', async () => {
      const ttl = 400;
      const releaseTimeout = 300;
      const app = await testApps.boot([RedisModule.forRoot({ url: node.url, keyPrefix, lock: { releaseTimeout } })]);
      let held: Lock | undefined;
      let paused = 0;
      try {
        const result = await app.get(LockService).using('using-paused', { ttl }, (_signal, lock) => {
          held = lock;
          node.pause();
          paused = Date.now();
          return 'done';
        });
        expect(result).toBe('done');
        expect(Date.now() - paused).toBeLessThan(releaseTimeout + 250);
        await sleep(2 * ttl);
        expect(held?.signal.aborted).toBe(false);
      } finally {
        node.resume();
      }
    });
  });

  it('release() settles within releaseTimeout while Redis is stopped (commands held in the offline queue)', async () => {
    const server = await RedisServerProcess.start();
    try {
      const releaseTimeout = 300;
      const app = await testApps.boot([
        RedisModule.forRoot({ url: server.url, keyPrefix, lock: { releaseTimeout, ttl: 400 } }),
      ]);
      const lock = await app.get(LockService).acquire('release-stopped');
      await server.stop();

      const started = Date.now();
      const error = await lock.release().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(releaseTimeout + 250);
      expect(error).toMatchObject({ code: 'E_LOCK_RELEASE_TIMEOUT', context: { resource: 'release-stopped' } });
      await sleep(800);
      expect(lock.signal.aborted).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
