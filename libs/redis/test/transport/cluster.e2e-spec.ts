import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisClusterProcesses, eventually } from '@test/harness';
import { BEHAVIOUR, streamsFixtureController } from './fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from './fixtures/transport-fixtures.js';

const ns = `t-cluster-${randomBytes(3).toString('hex')}`;

describe('RedisTransport on Redis Cluster', () => {
  let cluster: RedisClusterProcesses;
  let nodes: string[];
  const apps: INestMicroservice[] = [];
  const clients: RedisTransportClient[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    nodes = cluster.addresses;
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const app of apps) await app.close();
    await cluster?.stop();
  });

  it('pub/sub: events and requests work (classic cluster-wide pub/sub)', async () => {
    const recorder = new Recorder();
    apps.push(
      await startMicroservice(new RedisTransportServer({ cluster: { nodes } }), pubSubFixtureController(ns), recorder),
    );
    const client = new RedisTransportClient({ cluster: { nodes } });
    clients.push(client);
    await expect(firstValueFrom(client.send(`${ns}.sum`, [20, 22]))).resolves.toBe(42);
    await lastValueFrom(client.emit(`${ns}.venue.x`, { v: 1 }), { defaultValue: undefined });
    await recorder.waitFor(1);
    expect(recorder.events[0]).toMatchObject({ pattern: 'venue.*', data: { v: 1 } });
  });

  it('streams: each stream and its dead-letter stream share a slot; entries are handled and dead-lettered', async () => {
    const recorder = new Recorder();
    const server = new RedisTransportServer({
      cluster: { nodes },
      keyPrefix: 'c:',
      mode: 'streams',
      streams: { group: 'cluster-spec', maxAttempts: 2, retryDelay: 10 },
    });
    apps.push(
      await startMicroservice(server, streamsFixtureController(ns), recorder, false, [
        { provide: BEHAVIOUR, useValue: { running: 0, maxRunning: 0, slowMs: 1, flakyAttempts: new Map() } },
      ]),
    );
    const client = new RedisTransportClient({ cluster: { nodes }, keyPrefix: 'c:', mode: 'streams' });
    clients.push(client);
    await lastValueFrom(client.emit(`${ns}.created`, { n: 1 }));
    await lastValueFrom(client.emit(`${ns}.poison`, { reason: 'x' }));
    await recorder.waitFor(1);
    const direct = new Cluster(nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })));
    try {
      const slot = (key: string) => direct.cluster('KEYSLOT', key);
      const poison = `${ns}.poison`;
      expect(await slot(server.streamKey(poison))).toBe(await slot(server.deadLetterKey(poison)));
      expect(await eventually(async () => (await direct.xlen(server.deadLetterKey(poison))) === 1)).toBe(true);
    } finally {
      direct.disconnect();
    }
  });
});
