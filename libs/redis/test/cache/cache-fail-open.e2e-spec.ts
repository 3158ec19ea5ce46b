import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { CacheService, RedisModule } from '@app/redis';
import { LogCapture, RedisServerProcess, eventually, uniqueKeyPrefix } from '@test/harness';
import { CounterModule, CounterService } from './fixtures/counter.service.js';

const prefix = uniqueKeyPrefix('cache-fail-open');

async function boot(url: string, logs: LogCapture, extra: Record<string, unknown> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({
        url,
        keyPrefix: prefix,
        clientName: `fail-open-${process.pid}`,
        cache: { ttl: 60_000, commandTimeout: 100, errorLogInterval: 60_000, ...extra },
      }),
      CounterModule,
    ],
  })
    .setLogger(logs.logger)
    .compile();
  return moduleRef.init();
}

describe('Cache fail-open (throwaway redis-server stopped, paused and restarted)', () => {
  let server: RedisServerProcess;
  let app: INestApplicationContext;
  const logs = new LogCapture();

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    app = await boot(server.url, logs);
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('with Redis stopped the decorated method returns fresh results, logs once, and recovers on restart', async () => {
    const counter = app.get(CounterService);
    const cache = app.get(CacheService);
    expect(await counter.current('a')).toBe('a-1');
    expect(await counter.current('a')).toBe('a-1');

    await server.stop({ keepDir: true });
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await counter.current('a'));
    expect(during).toEqual(['a-2', 'a-3', 'a-4', 'a-5', 'a-6']);
    expect(cache.stats().counter.errors).toBeGreaterThanOrEqual(5);
    const failOpenLines = logs.lines.filter((l) => l.includes('Cache "counter" is running uncached'));
    expect(failOpenLines).toHaveLength(1);

    await server.restart();
    expect(
      await eventually(async () => {
        const first = await counter.current('b');
        return (await counter.current('b')) === first;
      }, 10_000),
    ).toBe(true);
    expect(await cache.getWithStatus('counter:b')).toMatchObject({ status: 'hit', tier: 'redis' });
  });

  it('a command slower than commandTimeout (server paused) runs the method uncached', async () => {
    const counter = app.get(CounterService);
    const loadsBefore = counter.loads;
    server.pause();
    try {
      const started = Date.now();
      const value = await counter.current('paused');
      expect(value).toBe(`paused-${loadsBefore + 1}`);
      // Bounded by commandTimeout (100 ms) rather than by the pause (which lasts until resume): a functional bound.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.resume();
    }
    expect(await eventually(async () => (await app.get(CacheService).get('__ping')) === undefined, 5_000)).toBe(true);
  });

  it('CacheService.get answers a miss, set/del/invalidateTags resolve quietly while Redis is down', async () => {
    const cache = app.get(CacheService);
    await cache.set('present', 1);
    await server.stop({ keepDir: true });
    try {
      expect(await cache.get('present')).toBeUndefined();
      await expect(cache.set('x', 1)).resolves.toBeUndefined();
      await expect(cache.del('x')).resolves.toBeUndefined();
      await expect(cache.invalidateTags(['t'])).resolves.toBe(0);
      expect(await cache.wrap('w', () => 'computed')).toBe('computed');
    } finally {
      await server.restart();
    }
  });
});

describe('Cache L1 and its invalidation subscription', () => {
  let server: RedisServerProcess;
  let reader: INestApplicationContext;
  let writer: INestApplicationContext;
  let admin: Redis;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    admin = new Redis(server.url);
    reader = await boot(server.url, new LogCapture(), { l1: { maxEntries: 100, ttl: 60_000 } });
    writer = await boot(server.url, new LogCapture());
  });

  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await admin?.quit();
    await server?.stop();
  });

  async function subscriberIds(): Promise<string[]> {
    const list = (await admin.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => / sub=[1-9]/.test(line))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1] ?? '')
      .filter(Boolean);
  }

  it('serves hits from L1, and drops all of L1 when the subscription drops (messages may be missed)', async () => {
    const cache = reader.get(CacheService);
    await cache.get('__start');
    expect(await eventually(async () => (await subscriberIds()).length >= 1, 3_000)).toBe(true);
    await cache.set('k', 'v1');
    expect(await cache.getWithStatus('k')).toMatchObject({ value: 'v1', tier: 'l1' });

    const ids = await subscriberIds();
    await Promise.all(ids.map((id) => admin.client('KILL', 'ID', id)));
    // Written while the reader's subscription is down: the invalidation message is lost for the reader.
    await writer.get(CacheService).set('k', 'v2');
    expect(await reader.get(CacheService).get('k')).toBe('v2');

    expect(await eventually(async () => (await cache.getWithStatus('k'))?.tier === 'l1', 5_000)).toBe(true);
    expect(await cache.get('k')).toBe('v2');
  });
});
