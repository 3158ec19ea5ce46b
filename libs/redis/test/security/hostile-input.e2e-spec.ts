import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockService, RedisModule, RedisOptionsError } from '@app/redis';
import { RedisTransportClient, RedisTransportPayloadTooLargeError, RedisTransportServer } from '@app/redis/transport';
import { LogCapture, RedisServerProcess, eventually } from '@test/harness';
import { BEHAVIOUR, streamsFixtureController } from '../transport/fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

/** What a query string or JSON body can carry into a key: globs, CRLF, hash-tag braces, unicode, control bytes. */
const HOSTILE = [
  '*',
  '?[a]*',
  'a\r\nFLUSHALL\r\n',
  '{}',
  '}{',
  '{other-tenant}',
  '} :fence',
  '..:..:cache:',
  '\u0000\u0001',
  'ä ö ü 日本語 😀',
  '\u202eevil',
  '\\*',
  'tenant-b:cache:{x}',
];
const LONG = 'x'.repeat(10_000);

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function bootTenant(url: string, keyPrefix: string): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [RedisModule.forRoot({ url, keyPrefix, cache: { ttl: 60_000 }, lock: { ttl: 5_000 } })],
  }).compile();
  return moduleRef.init();
}

describe('Hostile input against a real Redis', () => {
  let server: RedisServerProcess;
  let redis: Redis;
  let tenantA: INestApplicationContext;
  let tenantB: INestApplicationContext;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    redis = new Redis(server.port, '127.0.0.1');
    tenantA = await bootTenant(server.url, 'tenant-a:');
    tenantB = await bootTenant(server.url, 'tenant-b:');
  });

  afterAll(async () => {
    await tenantA?.close();
    await tenantB?.close();
    redis?.disconnect();
    await server?.stop();
  });

  describe('cache keys', () => {
    it('round-trips hostile keys and keeps every Redis key inside the tenant’s keyPrefix', async () => {
      const cache = tenantA.get(CacheService);
      for (const key of HOSTILE) await cache.set(key, { key });
      for (const key of HOSTILE) expect(await cache.get(key)).toEqual({ key });
      await cache.set('tagged', 1, { tags: HOSTILE });
      expect(await cache.invalidateTags(['{other-tenant}'])).toBe(1);
      const keys = await allKeys(redis);
      expect(keys.length).toBeGreaterThan(HOSTILE.length);
      expect(keys.filter((k) => !k.startsWith('tenant-a:'))).toEqual([]);
    });

    it('lets no key of one tenant read, overwrite or clear another tenant’s entries', async () => {
      const a = tenantA.get(CacheService);
      const b = tenantB.get(CacheService);
      await a.set('shared-name', 'a');
      for (const key of ['shared-name', ...HOSTILE]) expect(await b.get(key)).toBeUndefined();
      await b.set('shared-name', 'b');
      await b.clear();
      expect(await a.get('shared-name')).toBe('a');
      expect(await a.get('*')).toEqual({ key: '*' });
    });

    it('hashes the tail of an over-long key: fixed size, exact round-trip, no collision with its neighbours', async () => {
      const cache = tenantA.get(CacheService);
      await cache.set(`${LONG}1`, 'one');
      await cache.set(`${LONG}2`, 'two');
      expect(await cache.get(`${LONG}1`)).toBe('one');
      expect(await cache.get(`${LONG}2`)).toBe('two');
      const stored = (await allKeys(redis)).filter((k) => k.startsWith('tenant-a:cache:{xxxx'));
      expect(stored).toHaveLength(2);
      for (const key of stored) expect(key).toMatch(/^tenant-a:cache:\{x{213}#[A-Za-z0-9_-]{43}\}$/);
    });

    it('rejects a key with a lone surrogate instead of colliding with another one in Redis', async () => {
      await expect(tenantA.get(CacheService).set('a\uD800', 1)).rejects.toThrow('must be well-formed Unicode');
      await expect(tenantA.get(CacheService).set('', 1)).rejects.toThrow(TypeError);
    });
  });

  describe('lock resources', () => {
    it('locks hostile resources under the tenant’s keyPrefix, each independent of the others', async () => {
      const locks = tenantA.get(LockService);
      const held = await Promise.all(HOSTILE.map((resource) => locks.acquire(resource, { waitTimeout: 1_000 })));
      expect(new Set(held.map((l) => l.resource)).size).toBe(HOSTILE.length);
      const lockKeys = (await allKeys(redis)).filter((k) => k.includes(':lock:'));
      expect(lockKeys.length).toBeGreaterThanOrEqual(HOSTILE.length);
      expect(lockKeys.filter((k) => !k.startsWith('tenant-a:lock:{'))).toEqual([]);
      expect(await tenantB.get(LockService).tryAcquire('{other-tenant}')).not.toBeNull();
      await Promise.all(held.map((l) => l.release()));
    });

    it('rejects a resource over 512 characters or with a lone surrogate (a lock name must stay exact)', async () => {
      const locks = tenantA.get(LockService);
      await expect(locks.acquire('r'.repeat(513))).rejects.toThrow(RedisOptionsError);
      await expect(locks.acquire('r\uDC00')).rejects.toThrow('well-formed Unicode');
      expect(await locks.tryAcquire('r'.repeat(512))).not.toBeNull();
    });
  });

  describe('transport payload limit', () => {
    const limit = 4_096;
    const big = 'é'.repeat(limit); // 8 kB in UTF-8, though only 4,096 characters

    it('refuses the option below 1 KiB', () => {
      expect(() => new RedisTransportClient({ url: server.url, maxPayloadBytes: 10 })).toThrow(RedisOptionsError);
    });

    it('pub/sub: the client refuses to send an oversized packet; the server drops one published raw, unparsed', async () => {
      const recorder = new Recorder();
      const logs = new LogCapture();
      const app: INestMicroservice = await startMicroservice(
        new RedisTransportServer({ url: server.url, maxPayloadBytes: limit }),
        pubSubFixtureController('hostile'),
        recorder,
        logs.logger,
      );
      const client = new RedisTransportClient({ url: server.url, maxPayloadBytes: limit, sendTimeout: 1_000 });
      try {
        await client.connect();
        const error = await lastValueFrom(client.emit('hostile.booking.created', big)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RedisTransportPayloadTooLargeError);
        expect(error).toMatchObject({ code: 'E_TRANSPORT_PAYLOAD_TOO_LARGE', maxBytes: limit });
        const sendStarted = Date.now();
        await expect(lastValueFrom(client.send('hostile.sum', [big]))).rejects.toBeInstanceOf(
          RedisTransportPayloadTooLargeError,
        );
        expect(Date.now() - sendStarted).toBeLessThan(500); // at once, not after sendTimeout
        expect(await lastValueFrom(client.send('hostile.sum', [1, 2]))).toBe(3);
        await redis.publish(
          'hostile.booking.created',
          JSON.stringify({ pattern: 'hostile.booking.created', data: big }),
        );
        await lastValueFrom(client.emit('hostile.booking.created', 'small'));
        await recorder.waitFor(1);
        expect(recorder.events.map((e) => e.data)).toEqual(['small']);
        expect(await eventually(() => /exceeds maxPayloadBytes 4096/.test(logs.text))).toBe(true);
      } finally {
        await client.close();
        await app.close();
      }
    });

    it("pub/sub: a reply over the server's limit reaches the caller as an error at once; a client drops an oversized reply unparsed", async () => {
      // A 2.6 kB request whose echo reply (value + a type per key) is about 7 kB.
      const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, '']));
      const recorder = new Recorder();
      const serverLogs = new LogCapture();
      const strict = await startMicroservice(
        new RedisTransportServer({ url: server.url, maxPayloadBytes: limit }),
        pubSubFixtureController('hostile-reply'),
        recorder,
        serverLogs.logger,
      );
      const client = new RedisTransportClient({ url: server.url, sendTimeout: 5_000 });
      try {
        await client.connect();
        const started = Date.now();
        const error = await lastValueFrom(client.send('hostile-reply.echo', wide)).catch((e: unknown) => e);
        expect(String(error)).toMatch(
          /Packet for "hostile-reply\.echo" is \d+ bytes once encoded, over maxPayloadBytes 4096/,
        );
        expect(Date.now() - started).toBeLessThan(4_000); // the error reply, not the client's sendTimeout
        expect(serverLogs.text).toMatch(/over maxPayloadBytes 4096/);
        expect(await lastValueFrom(client.send('hostile-reply.sum', [1, 2]))).toBe(3);
      } finally {
        await client.close();
        await strict.close();
      }

      // The app's logger is Nest's process-wide one, which the client logs through too; this server's limit is the
      // default 1 MiB, so only the client can write the limit 4096.
      const clientLogs = new LogCapture();
      const lenient = await startMicroservice(
        new RedisTransportServer({ url: server.url }),
        pubSubFixtureController('hostile-reply'),
        recorder,
        clientLogs.logger,
      );
      const strictClient = new RedisTransportClient({ url: server.url, maxPayloadBytes: limit, sendTimeout: 1_000 });
      try {
        await strictClient.connect();
        await expect(lastValueFrom(strictClient.send('hostile-reply.echo', wide))).rejects.toThrow();
        expect(clientLogs.text).toMatch(/exceeds maxPayloadBytes 4096/);
        expect(await lastValueFrom(strictClient.send('hostile-reply.sum', [2, 3]))).toBe(5);
      } finally {
        await strictClient.close();
        await lenient.close();
      }
    });

    it('streams: the client refuses an oversized event; the server dead-letters one written raw', async () => {
      const recorder = new Recorder();
      const logs = new LogCapture();
      const strategy = new RedisTransportServer({
        url: server.url,
        keyPrefix: 'tenant-a:',
        mode: 'streams',
        maxPayloadBytes: limit,
        streams: { group: 'hostile' },
      });
      const app = await startMicroservice(strategy, streamsFixtureController('hostile'), recorder, logs.logger, [
        { provide: BEHAVIOUR, useValue: { running: 0, maxRunning: 0, slowMs: 0, flakyAttempts: new Map() } },
      ]);
      const client = new RedisTransportClient({
        url: server.url,
        keyPrefix: 'tenant-a:',
        mode: 'streams',
        maxPayloadBytes: limit,
      });
      try {
        await client.connect();
        await expect(lastValueFrom(client.emit('hostile.created', big))).rejects.toBeInstanceOf(
          RedisTransportPayloadTooLargeError,
        );
        const stream = strategy.streamKey('hostile.created');
        expect(await redis.xlen(stream)).toBe(0);
        const raw = await redis.xadd(stream, '*', 'p', JSON.stringify({ pattern: 'hostile.created', data: big }));
        await lastValueFrom(client.emit('hostile.created', 'small'));
        await recorder.waitFor(1);
        const dead = strategy.deadLetterKey('hostile.created');
        expect(await eventually(async () => (await redis.xlen(dead)) === 1)).toBe(true);
        const [[, fields]] = await redis.xrange(dead, '-', '+');
        const entry = Object.fromEntries(fields.flatMap((f, i) => (i % 2 === 0 ? [[f, fields[i + 1]]] : [])));
        expect(entry).toMatchObject({ id: raw, error: expect.stringContaining('exceeds maxPayloadBytes 4096') });
        expect(recorder.events).toHaveLength(1);
        expect(logs.text).toMatch(/Malformed entry/);
      } finally {
        await client.close();
        await app.close();
      }
    });
  });
});
