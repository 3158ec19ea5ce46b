import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  CacheService,
  RedisModule,
  TaggedJsonCacheSerializer,
  getRedisConnectionToken,
  type CacheModuleOptions,
  type RedisClient,
} from '@app/redis';
import { encodeEntry } from '../../src/cache/cache-entry.codec.js';
import { RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';

const prefix = uniqueKeyPrefix('cache-loading-lock');
/** Long enough that a waiter kept until the end of it would fail every time bound below. */
const LOCK_WAIT = 5_000;

/**
 * A replica waiting for another's load must not depend on the "value landed" message alone: when the loader's
 * store or publish is lost in an outage, it used to wait the whole `lockWait` (seen after a Redis restart).
 */
describe('the loading lock when its holder cannot finish (throwaway redis-server, AOF on, restarted)', () => {
  let server: RedisServerProcess;
  let observer: Redis;
  const apps: INestApplicationContext[] = [];

  async function replica(keyPrefix: string, cache: CacheModuleOptions = {}): Promise<INestApplicationContext> {
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: server.url, keyPrefix, cache: { lockWait: LOCK_WAIT, ...cache } }),
    ]);
    apps.push(app);
    // Starts the cache's pub/sub side, so it waits for other replicas rather than loading at once.
    await app.get(CacheService).get('__start-bus');
    return app;
  }

  const ready = (app: INestApplicationContext) => app.get<RedisClient>(getRedisConnectionToken()).status === 'ready';

  /** Whether both replicas' cache subscriptions are live (the waiter then waits rather than loading at once). */
  async function subscribed(keyPrefix: string, count: number): Promise<boolean> {
    const [, subscribers] = (await observer.pubsub('NUMSUB', `${keyPrefix}cache:events`)) as [string, number];
    return subscribers >= count;
  }

  beforeAll(async () => {
    // Persisted like a production Redis, so a loading lock survives the restart (later arguments win).
    server = await RedisServerProcess.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    observer = new Redis(server.url, { maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    observer?.disconnect();
    await server?.stop();
  });

  it('a holder whose store failed while Redis was down releases its lock once Redis is back; the waiter is served at once', async () => {
    const keyPrefix = `${prefix}restart:`;
    const lockKey = `${keyPrefix}cache:{orphan}:l`;
    // lockTtl far beyond the test: only an explicit release frees the lock in time.
    const holderApp = await replica(keyPrefix, { lockTtl: 60_000 });
    const waiterApp = await replica(keyPrefix, { lockTtl: 60_000 });
    const holder = holderApp.get(CacheService);
    const waiter = waiterApp.get(CacheService);

    let finishLoad: (() => void) | undefined;
    const holding = holder.wrap('orphan', () => new Promise<string>((r) => (finishLoad = () => r('from-holder'))));
    expect(await eventually(async () => (await observer.exists(lockKey)) === 1, 3_000, 5)).toBe(true);

    await server.stop({ keepDir: true });
    // The holder has seen the connection drop: its store and release fail at once (nothing queued for later).
    expect(await eventually(() => !ready(holderApp), 5_000, 5)).toBe(true);
    finishLoad?.();
    // Fail-open: the holder's caller gets its value although the store (and the release) failed.
    expect(await holding).toBe('from-holder');
    await server.restart();

    expect(await eventually(() => ready(holderApp) && ready(waiterApp), 10_000)).toBe(true);
    expect(await eventually(() => subscribed(keyPrefix, 2), 10_000)).toBe(true);

    let loads = 0;
    const started = Date.now();
    const served = await waiter.wrapWithStatus('orphan', () => {
      loads++;
      return 'from-waiter';
    });
    const waitedMs = Date.now() - started;
    expect(served).toMatchObject({ value: 'from-waiter', status: 'miss' });
    expect(loads).toBe(1);
    // Before the fix: LOCK_WAIT (the lock outlived the restart and nobody announced its end). A functional bound.
    expect(waitedMs).toBeLessThan(LOCK_WAIT / 2);
    expect(await observer.exists(lockKey)).toBe(0);
  });

  it('a waiter finds a value that landed without its "value landed" message, well before lockWait', async () => {
    const keyPrefix = `${prefix}lost-message:`;
    const waiter = (await replica(keyPrefix)).get(CacheService);
    expect(await eventually(() => subscribed(keyPrefix, 1), 5_000)).toBe(true);
    // Another replica holds the lock; its store lands but its publish is lost (it is written here, silently).
    await observer.set(`${keyPrefix}cache:{quiet}:l`, 'other-replica', 'PX', 60_000);

    let loads = 0;
    const started = Date.now();
    const pending = waiter.wrapWithStatus('quiet', () => {
      loads++;
      return 'from-waiter';
    });
    await new Promise((r) => setTimeout(r, 300));
    const now = Date.now();
    const entry = encodeEntry(new TaggedJsonCacheSerializer(), 'from-other', now, now + 60_000);
    await observer
      .multi()
      .set(`${keyPrefix}cache:{quiet}`, entry, 'PX', 60_000)
      .del(`${keyPrefix}cache:{quiet}:l`)
      .exec();

    const served = await pending;
    expect(served).toMatchObject({ value: 'from-other', status: 'hit', tier: 'redis' });
    expect(loads).toBe(0);
    expect(Date.now() - started).toBeLessThan(LOCK_WAIT / 2);
  });

  it('a waiter takes the lock over as soon as its holder dropped it without a value or a message', async () => {
    const keyPrefix = `${prefix}dropped:`;
    const waiter = (await replica(keyPrefix)).get(CacheService);
    expect(await eventually(() => subscribed(keyPrefix, 1), 5_000)).toBe(true);
    await observer.set(`${keyPrefix}cache:{dropped}:l`, 'other-replica', 'PX', 60_000);

    let loads = 0;
    const started = Date.now();
    const pending = waiter.wrapWithStatus('dropped', () => {
      loads++;
      return 'from-waiter';
    });
    await new Promise((r) => setTimeout(r, 300));
    await observer.del(`${keyPrefix}cache:{dropped}:l`);

    expect(await pending).toMatchObject({ value: 'from-waiter', status: 'miss' });
    expect(loads).toBe(1);
    expect(Date.now() - started).toBeLessThan(LOCK_WAIT / 2);
    // It loaded under the lock (released when it stored), so other waiters kept waiting for its value.
    expect(await observer.exists(`${keyPrefix}cache:{dropped}:l`)).toBe(0);
    expect(await waiter.get('dropped')).toBe('from-waiter');
  });
});
