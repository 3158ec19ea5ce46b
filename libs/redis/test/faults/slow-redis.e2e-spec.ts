import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockNotAcquiredError, LockService, RedisModule } from '@app/redis';
import { RedisTransportClient, RedisTransportServer, RedisTransportTimeoutError } from '@app/redis/transport';
import { RedisServerProcess, eventually, silentLogger } from '@test/harness';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const NS = 'slow';

/** Runs `fn` and resolves with its outcome and how long the caller waited. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await fn();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('A Redis that answers slowly trips timeouts instead of hanging callers', () => {
  let server: RedisServerProcess;
  let admin: Redis;
  let app: INestApplicationContext;
  let microservice: INestMicroservice;
  let client: RedisTransportClient;

  beforeAll(async () => {
    server = await RedisServerProcess.start({ args: ['--enable-debug-command', 'yes'] });
    admin = new Redis(server.port, '127.0.0.1');
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({
          url: server.url,
          keyPrefix: 'slow:',
          cache: { ttl: 60_000, commandTimeout: 250 },
          lock: { ttl: 5_000 },
        }),
      ],
    })
      .setLogger(silentLogger)
      .compile();
    app = await moduleRef.init();
    microservice = await startMicroservice(
      new RedisTransportServer({ url: server.url }),
      pubSubFixtureController(NS),
      new Recorder(),
    );
    client = new RedisTransportClient({ url: server.url, sendTimeout: 500 });
    await client.connect();
    await app.get(CacheService).set('warm', 'value');
  });

  afterAll(async () => {
    await client?.close();
    await microservice?.close();
    await app?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it.each([
    ['CLIENT PAUSE 3000 ALL', (r: Redis) => r.call('CLIENT', 'PAUSE', '3000', 'ALL')],
    ['DEBUG SLEEP 3', (r: Redis) => void r.call('DEBUG', 'SLEEP', '3').catch(() => undefined)],
  ])(
    'under %s: cache fails open, lock acquire fails closed, send times out, each in well under the stall',
    async (title, stall) => {
      const cache = app.get(CacheService);
      const locks = app.get(LockService);
      await stall(admin);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [read, wrapped, lock, sent] = await Promise.all([
        timed(() => cache.get('warm-miss')),
        timed(() => cache.wrap('loaded', () => 'from-loader')),
        timed(() => locks.acquire('slot', { waitTimeout: 200 })),
        timed(() => lastValueFrom(client.send(`${NS}.sum`, [1, 2]))),
      ]);
      process.stdout.write(
        `\n[fault] ${title}: cache.get ${read.ms} ms (${String(read.value)}), cache.wrap ${wrapped.ms} ms ` +
          `(${String(wrapped.value)}), lock ${lock.ms} ms (${(lock.error as Error | undefined)?.name}), ` +
          `send ${sent.ms} ms (${(sent.error as Error | undefined)?.name})\n`,
      );
      expect(read).toEqual({ ms: expect.any(Number), value: undefined });
      expect(wrapped).toEqual({ ms: expect.any(Number), value: 'from-loader' });
      expect(lock.error).toBeInstanceOf(LockNotAcquiredError);
      expect(sent.error).toBeInstanceOf(RedisTransportTimeoutError);
      for (const call of [read, wrapped]) expect(call.ms).toBeLessThan(1_000);
      for (const call of [lock, sent]) expect(call.ms).toBeLessThan(2_000);

      // Once Redis answers again, everything works without intervention.
      expect(
        await eventually(async () => {
          const ok = await locks.tryAcquire('after').catch(() => null);
          await ok?.release();
          return ok !== null && (await cache.get('warm').catch(() => undefined)) === 'value';
        }, 10_000),
      ).toBe(true);
      expect(await lastValueFrom(client.send(`${NS}.sum`, [1, 2]))).toBe(3);
    },
  );
});
