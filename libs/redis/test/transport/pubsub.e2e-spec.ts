import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import {
  RedisTransportClient,
  RedisTransportServer,
  RedisTransportStatus,
  RedisTransportTimeoutError,
} from '@app/redis/transport';
import { LogCapture, REDIS_URL, eventually, useRedisClient } from '@test/harness';
import { Recorder, pubSubFixtureController, startMicroservice } from './fixtures/transport-fixtures.js';

const ns = `t-pubsub-${randomBytes(4).toString('hex')}`;
const clientName = `tp-${ns}`;
const raw = useRedisClient();

describe('RedisTransportServer / RedisTransportClient › pub/sub mode', () => {
  const recorder = new Recorder();
  const logs = new LogCapture();
  let app: INestMicroservice;
  let server: RedisTransportServer;
  let client: RedisTransportClient;
  const statuses: string[] = [];

  beforeAll(async () => {
    server = new RedisTransportServer({ url: REDIS_URL });
    server.status.subscribe((s) => statuses.push(s));
    app = await startMicroservice(server, pubSubFixtureController(ns), recorder, logs.logger);
    client = new RedisTransportClient({ url: REDIS_URL, sendTimeout: 1_000, clientName });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('reports "connected" on the status stream once listening', () => {
    expect(statuses).toEqual([RedisTransportStatus.CONNECTED]);
  });

  it('delivers an emitted event to its @EventPattern handler', async () => {
    const start = recorder.events.length;
    await lastValueFrom(client.emit(`${ns}.booking.created`, { id: 1 }), { defaultValue: undefined });
    await recorder.waitFor(start + 1);
    expect(recorder.events[start]).toEqual({ pattern: 'created', data: { id: 1 }, channel: `${ns}.booking.created` });
  });

  it('delivers events on matching channels to a wildcard handler (PSUBSCRIBE)', async () => {
    const start = recorder.events.length;
    await firstValueFrom(client.emit(`${ns}.venue.opened`, { v: 'a' }), { defaultValue: undefined });
    await firstValueFrom(client.emit(`${ns}.venue.closed`, { v: 'b' }), { defaultValue: undefined });
    await recorder.waitFor(start + 2);
    expect(
      recorder.events
        .slice(start)
        .map((e) => e.channel)
        .sort(),
    ).toEqual([`${ns}.venue.closed`, `${ns}.venue.opened`]);
  });

  it('answers send() with the handler result', async () => {
    await expect(firstValueFrom(client.send(`${ns}.sum`, [1, 2, 3]))).resolves.toBe(6);
  });

  it('answers 200 concurrent send() calls, each with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => firstValueFrom(client.send<number>(`${ns}.sum`, [i, 1]))),
    );
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('delivers an RpcException thrown by the handler to the caller as the error', async () => {
    await expect(firstValueFrom(client.send(`${ns}.fail`, 'sold out'))).rejects.toEqual({
      code: 'E_BOOKING_FULL',
      message: 'sold out',
    });
  });

  it('streams every value of an observable (multi-value) response, then completes', async () => {
    await expect(lastValueFrom(client.send(`${ns}.count`, 4).pipe(toArray()))).resolves.toEqual([1, 2, 3, 4]);
  });

  it('fails send() with RedisTransportTimeoutError when nobody handles the pattern', async () => {
    const started = Date.now();
    const error = await firstValueFrom(client.send(`${ns}.nobody-listens`, 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisTransportTimeoutError);
    expect((error as RedisTransportTimeoutError).code).toBe('E_TRANSPORT_TIMEOUT');
    expect((error as RedisTransportTimeoutError).pattern).toBe(`${ns}.nobody-listens`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps Date and BigInt values intact between our client and our server (lossless codec)', async () => {
    const at = new Date('2026-11-23T08:00:00.000Z');
    const reply = await firstValueFrom(
      client.send<{ value: { at: Date; n: bigint }; types: Record<string, string> }>(`${ns}.echo`, {
        at,
        n: 2n ** 70n,
        s: 'x',
      }),
    );
    expect(reply.types).toEqual({ at: 'Date', n: 'bigint', s: 'string' });
    expect(reply.value.at).toEqual(at);
    expect(reply.value.n).toBe(2n ** 70n);
  });

  it('logs a malformed payload, drops it and keeps serving', async () => {
    await raw.publish(`${ns}.booking.created`, '{not json');
    await raw.publish(`${ns}.sum`, '{"$t": 5, "pattern": "x", "data": 1, "id": "1"}');
    expect(await eventually(() => /malformed message/i.test(logs.text), 3_000)).toBe(true);
    await expect(firstValueFrom(client.send(`${ns}.sum`, [2, 2]))).resolves.toBe(4);
  });

  it('keeps one reply subscription per client for good: no SUBSCRIBE/UNSUBSCRIBE per request', async () => {
    const subscriptions = async () => {
      const list = (await raw.client('LIST')) as string;
      const line = list.split('\n').find((l) => l.includes(`name=${clientName}:transport:client-sub`));
      return Number(/ sub=(\d+)/.exec(line ?? '')?.[1]);
    };
    await firstValueFrom(client.send(`${ns}.sum`, [1]));
    const before = await subscriptions();
    const seen = new Set<number>();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        await firstValueFrom(client.send(`${ns}.sum`, [1]));
        seen.add(await subscriptions());
      }),
    );
    // Its own reply channel plus, per pattern used so far, `<channel>.reply` kept for Nest's built-in servers:
    // sum, fail, count, nobody-listens, echo.
    expect(before).toBe(6);
    expect([...seen]).toEqual([6]);
  });
});
