import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer, RedisTransportStatus } from '@app/redis/transport';
import { RedisServerProcess, eventually } from '@test/harness';
import { Recorder, pubSubFixtureController, startMicroservice } from './fixtures/transport-fixtures.js';

const ns = `t-reconnect-${randomBytes(4).toString('hex')}`;

describe('RedisTransportServer / RedisTransportClient › pub/sub mode › Redis restart', () => {
  let redis: RedisServerProcess | undefined;
  let app: INestMicroservice | undefined;
  let client: RedisTransportClient | undefined;

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await redis?.stop();
  });

  it('reports reconnecting, then resubscribes and serves again by itself (no retryAttempts needed)', async () => {
    redis = await RedisServerProcess.start();
    const recorder = new Recorder();
    const server = new RedisTransportServer({ url: redis.url, reconnectMaxDelay: 200 });
    const serverStatuses: string[] = [];
    server.status.subscribe((s) => serverStatuses.push(s));
    app = await startMicroservice(server, pubSubFixtureController(ns), recorder);
    client = new RedisTransportClient({ url: redis.url, reconnectMaxDelay: 200, sendTimeout: 1_000 });
    const clientStatuses: string[] = [];
    client.status.subscribe((s) => clientStatuses.push(s));
    await expect(firstValueFrom(client.send(`${ns}.sum`, [1, 2]))).resolves.toBe(3);

    await redis.kill();
    expect(await eventually(() => serverStatuses.includes(RedisTransportStatus.RECONNECTING), 3_000)).toBe(true);
    await redis.restart();

    const serving = await eventually(
      async () => {
        try {
          return (await firstValueFrom(client!.send(`${ns}.sum`, [2, 2]))) === 4;
        } catch {
          return false;
        }
      },
      10_000,
      100,
    );
    expect(serving).toBe(true);
    await lastValueFrom(client.emit(`${ns}.booking.created`, { after: 'restart' }), { defaultValue: undefined });
    await recorder.waitFor(1);
    expect(recorder.events[0].data).toEqual({ after: 'restart' });
    expect(serverStatuses).toEqual([
      RedisTransportStatus.CONNECTED,
      RedisTransportStatus.RECONNECTING,
      RedisTransportStatus.CONNECTED,
    ]);
    expect(clientStatuses).toEqual([
      RedisTransportStatus.CONNECTED,
      RedisTransportStatus.RECONNECTING,
      RedisTransportStatus.CONNECTED,
    ]);
  }, 30_000);
});
