import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisOptionsError } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisClusterProcesses, eventually, pubSubCounters, pubSubDelta, sumOf as sum } from '@test/harness';
import { RECORDER, Recorder, startMicroservice } from './fixtures/transport-fixtures.js';

const ns = `t-sharded-${randomBytes(3).toString('hex')}`;
const EVENTS = 60;

/** Exact patterns only: sharded pub/sub has no pattern subscriptions. */
function exactController(prefix: string) {
  @Controller()
  class ExactController {
    constructor(@Inject(RECORDER) readonly recorder: Recorder) {}

    @EventPattern(`${prefix}.booking.created`)
    onCreated(@Payload() data: unknown) {
      this.recorder.push({ pattern: 'created', data });
    }

    @MessagePattern(`${prefix}.sum`)
    sum(@Payload() numbers: number[]) {
      return numbers.reduce((a, b) => a + b, 0);
    }
  }
  return ExactController;
}

describe('RedisTransport pub/sub with shardedPubSub on a 3-master Redis Cluster', () => {
  let cluster: RedisClusterProcesses;
  let nodes: string[];
  let observer: Cluster;
  const apps: INestMicroservice[] = [];
  const clients: RedisTransportClient[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    nodes = cluster.addresses;
    observer = new Cluster(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    await observer.ping();
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const app of apps) await app.close();
    observer?.disconnect();
    await cluster?.stop();
  });

  async function start(sharded: boolean, prefix: string) {
    const recorder = new Recorder();
    apps.push(
      await startMicroservice(
        new RedisTransportServer({ cluster: { nodes }, shardedPubSub: sharded }),
        exactController(prefix),
        recorder,
      ),
    );
    const client = new RedisTransportClient({ cluster: { nodes }, shardedPubSub: sharded });
    clients.push(client);
    await client.connect();
    return { recorder, client };
  }

  /** Emits `EVENTS` events and returns the counters' deltas once the handler saw them all. */
  async function emitAndCount(client: RedisTransportClient, recorder: Recorder, pattern: string) {
    const masters = observer.nodes('master');
    const before = await pubSubCounters(masters);
    for (let i = 0; i < EVENTS; i++) await lastValueFrom(client.emit(pattern, { i }), { defaultValue: undefined });
    await recorder.waitFor(EVENTS);
    const after = await pubSubCounters(masters);
    const delta = pubSubDelta(before, after);
    return delta;
  }

  it('requests and events work over SSUBSCRIBE / SPUBLISH', async () => {
    const { recorder, client } = await start(true, `${ns}.s1`);
    await expect(firstValueFrom(client.send(`${ns}.s1.sum`, [20, 22]))).resolves.toBe(42);
    await lastValueFrom(client.emit(`${ns}.s1.booking.created`, { v: 1 }), { defaultValue: undefined });
    await recorder.waitFor(1);
    expect(recorder.events).toEqual([{ pattern: 'created', data: { v: 1 } }]);
  });

  it(`${EVENTS} events: classic PUBLISH is relayed to both other masters, SPUBLISH stays on the owning shard`, async () => {
    const classic = await start(false, `${ns}.c2`);
    const sharded = await start(true, `${ns}.s2`);

    const classicDelta = await emitAndCount(classic.client, classic.recorder, `${ns}.c2.booking.created`);
    const shardedDelta = await emitAndCount(sharded.client, sharded.recorder, `${ns}.s2.booking.created`);

    // Classic: every PUBLISH runs on one node and is relayed over the cluster bus to the 2 other masters.
    expect(sum(classicDelta, 'publish')).toBe(EVENTS);
    expect(sum(classicDelta, 'busPublish')).toBe(EVENTS * 2);
    expect(sum(classicDelta, 'spublish')).toBe(0);
    // Sharded: every SPUBLISH runs on the one master owning the channel's slot; nothing crosses the bus (no
    // replicas in this cluster, the only nodes a shard message would be sent to).
    expect(sum(shardedDelta, 'spublish')).toBe(EVENTS);
    expect(shardedDelta.filter((c) => c.spublish > 0)).toHaveLength(1);
    expect(sum(shardedDelta, 'publish')).toBe(0);
    expect(sum(shardedDelta, 'busPublish')).toBe(0);
    expect(sum(shardedDelta, 'busPublishShard')).toBe(0);
    expect(sharded.recorder.events.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: EVENTS }, (_x, i) => i),
    );
  });

  it('keeps delivering events after the master owning their channel restarts (sharded subscription restored)', async () => {
    const { recorder, client } = await start(true, `${ns}.s3`);
    const channel = `${ns}.s3.booking.created`;
    const slot = (await observer.cluster('KEYSLOT', channel)) as number;
    const node = await cluster.nodeServingSlot(slot);
    await node.stop({ keepDir: true });
    await node.restart();
    await cluster.waitUntilOk();
    const sent = await eventually(
      async () => {
        await lastValueFrom(client.emit(channel, { after: 'restart' }), { defaultValue: undefined }).catch(
          () => undefined,
        );
        return recorder.events.length > 0;
      },
      15_000,
      200,
    );
    expect(sent).toBe(true);
    expect(recorder.events[0]).toEqual({ pattern: 'created', data: { after: 'restart' } });
  }, 40_000);

  it('rejects a glob handler pattern at listen, naming shardedPubSub', async () => {
    @Controller()
    class GlobController {
      @EventPattern(`${ns}.venue.*`)
      onVenue(@Payload() _data: unknown) {}
    }
    await expect(
      startMicroservice(
        new RedisTransportServer({ cluster: { nodes }, shardedPubSub: true }),
        GlobController,
        new Recorder(),
      ),
    ).rejects.toMatchObject({ name: RedisOptionsError.name, field: 'shardedPubSub' });
  });

  it('rejects shardedPubSub with wildcards: true at construction, naming the field', () => {
    expect(() => new RedisTransportServer({ cluster: { nodes }, shardedPubSub: true, wildcards: true })).toThrow(
      /shardedPubSub/,
    );
  });
});
