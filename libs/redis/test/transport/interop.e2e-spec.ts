import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { ClientRedis, ServerRedis } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL } from '@test/harness';
import { Recorder, pubSubFixtureController, startMicroservice } from './fixtures/transport-fixtures.js';

const { hostname: host, port } = new URL(REDIS_URL);
const nestOptions = { host, port: Number(port || 6379) };

describe('RedisTransport interop with Nest’s built-in Transport.REDIS', () => {
  describe("Nest's ClientRedis → our RedisTransportServer", () => {
    const ns = `t-interop-a-${randomBytes(4).toString('hex')}`;
    const recorder = new Recorder();
    let app: INestMicroservice;
    let nestClient: ClientRedis;

    beforeAll(async () => {
      app = await startMicroservice(
        new RedisTransportServer({ url: REDIS_URL }),
        pubSubFixtureController(ns),
        recorder,
      );
      nestClient = new ClientRedis(nestOptions);
      await nestClient.connect();
    });

    afterAll(async () => {
      await nestClient?.close();
      await app?.close();
    });

    it('emit reaches our exact and wildcard event handlers', async () => {
      await lastValueFrom(nestClient.emit(`${ns}.booking.created`, { id: 7 }), { defaultValue: undefined });
      await lastValueFrom(nestClient.emit(`${ns}.venue.renamed`, { v: 1 }), { defaultValue: undefined });
      await recorder.waitFor(2);
      expect(recorder.events.map((e) => e.pattern).sort()).toEqual(['created', 'venue.*']);
      expect(recorder.events.find((e) => e.pattern === 'created')?.data).toEqual({ id: 7 });
    });

    it('send gets the reply on `<channel>.reply` in plain JSON, errors and observables included', async () => {
      await expect(firstValueFrom(nestClient.send(`${ns}.sum`, [4, 5]))).resolves.toBe(9);
      await expect(firstValueFrom(nestClient.send(`${ns}.fail`, 'nope'))).rejects.toEqual({
        code: 'E_BOOKING_FULL',
        message: 'nope',
      });
      await expect(lastValueFrom(nestClient.send(`${ns}.count`, 3).pipe(toArray()))).resolves.toEqual([1, 2, 3]);
      const at = new Date('2026-01-01T00:00:00.000Z');
      // The built-in client speaks JSON: the Date arrives as its ISO string, as with the built-in server.
      await expect(firstValueFrom(nestClient.send(`${ns}.echo`, { at }))).resolves.toEqual({
        value: { at: at.toISOString() },
        types: { at: 'string' },
      });
    });
  });

  describe("our RedisTransportClient → Nest's ServerRedis", () => {
    const ns = `t-interop-b-${randomBytes(4).toString('hex')}`;
    const recorder = new Recorder();
    let app: INestMicroservice;
    let client: RedisTransportClient;

    beforeAll(async () => {
      app = await startMicroservice(
        new ServerRedis({ ...nestOptions, wildcards: true }),
        pubSubFixtureController(ns),
        recorder,
      );
      client = new RedisTransportClient({ url: REDIS_URL, sendTimeout: 2_000 });
      await client.connect();
    });

    afterAll(async () => {
      await client?.close();
      await app?.close();
    });

    it('emit reaches the built-in server’s event handlers', async () => {
      await lastValueFrom(client.emit(`${ns}.booking.created`, { id: 8 }), { defaultValue: undefined });
      await recorder.waitFor(1);
      expect(recorder.events[0]).toMatchObject({ pattern: 'created', data: { id: 8 } });
    });

    it('send gets the built-in server’s replies, errors and multi-value responses', async () => {
      await expect(firstValueFrom(client.send(`${ns}.sum`, [1, 1]))).resolves.toBe(2);
      await expect(firstValueFrom(client.send(`${ns}.fail`, 'full'))).rejects.toEqual({
        code: 'E_BOOKING_FULL',
        message: 'full',
      });
      await expect(lastValueFrom(client.send(`${ns}.count`, 3).pipe(toArray()))).resolves.toEqual([1, 2, 3]);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => firstValueFrom(client.send<number>(`${ns}.sum`, [i, i]))),
      );
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    });
  });
});
