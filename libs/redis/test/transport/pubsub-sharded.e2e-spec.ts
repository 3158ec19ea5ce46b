import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisOptionsError } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import {
  BUS_HEADER_BYTES,
  busBytesOut,
  type BytesOut,
  ClusterBytesOut,
  type PubSubCounters,
  RedisClusterProcesses,
  eventually,
  pubSubCounters,
  pubSubDelta,
  sumOf as sum,
  totalBytesOut,
} from '@test/harness';
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
  let bytesOut: ClusterBytesOut;
  const apps: INestMicroservice[] = [];
  const clients: RedisTransportClient[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    nodes = cluster.addresses;
    observer = new Cluster(cluster.nodes.map((node) => ({ host: node.host, port: node.port })));
    await observer.ping();
    bytesOut = new ClusterBytesOut(cluster, () => observer.nodes('master'));
    await bytesOut.calibrate();
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

  /**
   * Emits `EVENTS` events and returns, once the handler saw them all, the counters' deltas and the bytes each master
   * sent (`baseline`: the same measurement around the counters' reads alone, taken out).
   */
  async function emitAndCount(client: RedisTransportClient, recorder: Recorder, pattern: string, baseline: BytesOut[]) {
    const masters = observer.nodes('master');
    let delta: PubSubCounters[] = [];
    const bytes = await bytesOut.during(async () => {
      const before = await pubSubCounters(masters);
      for (let i = 0; i < EVENTS; i++) await lastValueFrom(client.emit(pattern, { i }), { defaultValue: undefined });
      await recorder.waitFor(EVENTS);
      delta = pubSubDelta(before, await pubSubCounters(masters));
    }, baseline);
    return { delta, bytes };
  }

  it('requests and events work over SSUBSCRIBE / SPUBLISH', async () => {
    const { recorder, client } = await start(true, `${ns}.s1`);
    await expect(firstValueFrom(client.send(`${ns}.s1.sum`, [20, 22]))).resolves.toBe(42);
    await lastValueFrom(client.emit(`${ns}.s1.booking.created`, { v: 1 }), { defaultValue: undefined });
    await recorder.waitFor(1);
    expect(recorder.events).toEqual([{ pattern: 'created', data: { v: 1 } }]);
  });

  it(`${EVENTS} events: classic PUBLISH is relayed to both other masters, SPUBLISH stays on the owning shard and sends under a fifth of the bytes`, async () => {
    const classic = await start(false, `${ns}.c2`);
    const sharded = await start(true, `${ns}.s2`);
    const baseline = await bytesOut.countersBaseline();

    const classicRun = await emitAndCount(classic.client, classic.recorder, `${ns}.c2.booking.created`, baseline);
    const shardedRun = await emitAndCount(sharded.client, sharded.recorder, `${ns}.s2.booking.created`, baseline);
    const [classicDelta, shardedDelta] = [classicRun.delta, shardedRun.delta];
    process.stdout.write(
      `\n[sharded pub/sub] ${EVENTS} transport events, per master (bytes: gossip and the counters' own replies taken out)\n  ` +
        `${JSON.stringify({ gossipMessageBytes: bytesOut.gossipMessageBytes, classic: classicRun, sharded: shardedRun })}\n`,
    );

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

    // Bytes out. Classic: every relayed message carries the bus header besides the channel and the packet.
    expect(busBytesOut(classicRun.bytes)).toBeGreaterThan(EVENTS * 2 * BUS_HEADER_BYTES);
    // Sharded: nothing crosses the bus, and the masters not owning the channel send nothing for the events (under
    // 1.5 KB in all: the Cluster clients' periodic CLUSTER SLOTS replies; one delivered event alone is ~150 bytes).
    const owner = shardedDelta.find((c) => c.spublish > 0)!.node;
    for (const b of shardedRun.bytes) expect(Math.abs(b.bus)).toBeLessThan(500);
    for (const b of shardedRun.bytes.filter((b) => b.node !== owner)) expect(Math.abs(b.client)).toBeLessThan(1_500);
    expect(totalBytesOut(shardedRun.bytes)).toBeLessThan(totalBytesOut(classicRun.bytes) / 5);
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
