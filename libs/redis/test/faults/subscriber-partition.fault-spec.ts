import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess, TcpProxy, clientLinesNamed, eventually } from '@test/harness';
import { BEHAVIOUR, streamsFixtureController } from '../transport/fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const NS = 'subpart';
const PARTITION_MS = 10_000;
/** The clients' `sendTimeout`: a request the server cannot read fails after this. */
const SEND_TIMEOUT_MS = 1_000;
const keyPrefix = 'subscriber-partition:';

/** Records when each handled event arrived, and its sequence number. */
class TimedRecorder extends Recorder {
  readonly arrivals: { seq: number; at: number }[] = [];

  override push(entry: { pattern: string; data: unknown; channel?: string }): void {
    const data = entry.data as { seq?: number; data?: { seq: number } };
    this.arrivals.push({ seq: data.seq ?? data.data?.seq ?? -1, at: Date.now() });
    super.push(entry);
  }

  seqs(): Set<number> {
    return new Set(this.arrivals.map((a) => a.seq));
  }

  duplicates(): number {
    return this.arrivals.length - this.seqs().size;
  }
}

/** The port Redis shows in `CLIENT LIST` for the one connection named `name` (the proxy's upstream port). */
async function upstreamPortOf(observer: Redis, name: string): Promise<number> {
  const lines = (await clientLinesNamed(observer, name)).filter((line) => line.includes(` name=${name} `));
  if (lines.length !== 1) throw new Error(`expected one connection named ${name}, found ${lines.length}`);
  return Number(/ addr=[^ ]*:(\d+) /.exec(lines[0])![1]);
}

/**
 * Numbered emits (and, for pub/sub, requests) from clients connected straight to Redis, one call at a time, 20 ms
 * apart, recording which emits Redis acknowledged and when, and how each request ended.
 */
class EmitLoad {
  readonly acknowledged = new Map<number, number>();
  readonly sends = { ok: 0, failed: 0, errors: new Set<string>() };
  private running = true;
  private seq = 0;
  private readonly loops: Promise<void>[];

  constructor(client: RedisTransportClient, emitPattern: string, sendPattern?: string) {
    EmitLoad.running.add(this);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    this.loops = [
      (async () => {
        while (this.running) {
          const seq = this.seq++;
          try {
            await lastValueFrom(client.emit(emitPattern, { seq }));
            this.acknowledged.set(seq, Date.now());
          } catch {
            // Not acknowledged: not counted.
          }
          await pause();
        }
      })(),
      (async () => {
        while (this.running && sendPattern) {
          try {
            if ((await lastValueFrom(client.send<number>(sendPattern, [1, 2]))) !== 3) throw new Error('wrong sum');
            this.sends.ok++;
          } catch (error) {
            this.sends.failed++;
            this.sends.errors.add(error instanceof Error ? error.name : String(error));
          }
          await pause();
        }
      })(),
    ];
  }

  /** Loads not stopped yet, so that `afterEach` can stop those of a failed test. */
  static readonly running = new Set<EmitLoad>();

  async stop(): Promise<void> {
    EmitLoad.running.delete(this);
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('transport: the server’s subscriber (or stream reader) connection partitioned alone for 10 s', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let redis: RedisServerProcess;
  let proxy: TcpProxy;
  let observer: Redis;
  let server: INestMicroservice | undefined;
  let client: RedisTransportClient | undefined;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await RedisServerProcess.start();
    observer = new Redis(redis.url);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await observer.quit();
    await redis.stop();
  });

  afterEach(async () => {
    for (const load of [...EmitLoad.running]) await load.stop();
    await client?.close();
    await server?.close();
    await proxy?.close();
    client = undefined;
    server = undefined;
  });

  /** A server connected through the proxy, a client connected straight to Redis. */
  async function start(mode: 'pubsub' | 'streams', recorder: TimedRecorder): Promise<RedisTransportServer> {
    proxy = await TcpProxy.start({ port: redis.port });
    const strategy =
      mode === 'pubsub'
        ? new RedisTransportServer({ url: proxy.url, keyPrefix })
        : new RedisTransportServer({
            url: proxy.url,
            keyPrefix,
            mode: 'streams',
            streams: { group: 'subpart', blockTime: 200 },
          });
    server =
      mode === 'pubsub'
        ? await startMicroservice(strategy, pubSubFixtureController(NS), recorder)
        : await startMicroservice(strategy, streamsFixtureController(NS), recorder, false, [
            { provide: BEHAVIOUR, useValue: { running: 0, maxRunning: 0, slowMs: 0, flakyAttempts: new Map() } },
          ]);
    client = new RedisTransportClient({ url: redis.url, keyPrefix, sendTimeout: SEND_TIMEOUT_MS, mode });
    await client.connect();
    return strategy;
  }

  function statuses(strategy: RedisTransportServer): string[] {
    const seen: string[] = [];
    strategy.status.subscribe((status) => seen.push(String(status)));
    return seen;
  }

  const print = (title: string, figures: Record<string, unknown>) =>
    process.stdout.write(`\n[fault] ${title}\n  ${JSON.stringify(figures)}\n`);

  it('pub/sub, healed: nothing notices, events wait in Redis’ output buffer and all arrive after healing; requests time out', async () => {
    const recorder = new TimedRecorder();
    const strategy = await start('pubsub', recorder);
    const seen = statuses(strategy);
    const load = new EmitLoad(client!, `${NS}.booking.created`, `${NS}.sum`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const subPort = await upstreamPortOf(observer, 'nest-redis:transport:server-sub');
    const sendsBefore = { ...load.sends };
    const from = Date.now();
    proxy.blackHoleConnection(subPort);
    await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
    proxy.heal();
    const healedAt = Date.now();
    const sendsFailedInPartition = load.sends.failed - sendsBefore.failed;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await load.stop();
    const acknowledged = [...load.acknowledged.keys()];
    await eventually(() => acknowledged.every((seq) => recorder.seqs().has(seq)), 10_000);
    const lost = acknowledged.filter((seq) => !recorder.seqs().has(seq));
    const inPartition = [...load.acknowledged].filter(([, at]) => at >= from && at <= healedAt).map(([s]) => s);
    const late = recorder.arrivals.filter((a) => inPartition.includes(a.seq));
    const firstLateAfterHealMs = late.length > 0 ? Math.min(...late.map((a) => a.at)) - healedAt : null;
    const lastLateAfterHealMs = late.length > 0 ? Math.max(...late.map((a) => a.at)) - healedAt : null;
    const inOrder = recorder.arrivals.every((a, i) => i === 0 || a.seq > recorder.arrivals[i - 1].seq);
    print(`Transport: pub/sub server's subscriber connection black-holed ${PARTITION_MS} ms, then healed`, {
      acknowledgedEmits: acknowledged.length,
      acknowledgedDuringPartition: inPartition.length,
      handled: recorder.arrivals.length,
      lostAcknowledgedEvents: lost.length,
      duplicates: recorder.duplicates(),
      inOrder,
      partitionedEventsHandledFromMsAfterHeal: firstLateAfterHealMs,
      partitionedEventsHandledUntilMsAfterHeal: lastLateAfterHealMs,
      sendsOk: load.sends.ok,
      sendsFailedDuringPartition: sendsFailedInPartition,
      sendErrors: [...load.sends.errors],
      serverStatuses: seen,
      unhandledRejections: unhandled.length,
    });

    // Redis still counts the subscriber, so every PUBLISH is acknowledged and queued for it; TCP delivers them in
    // order once the path is back.
    expect(inPartition.length).toBeGreaterThan(100);
    expect(lost).toEqual([]);
    expect(recorder.duplicates()).toBe(0);
    expect(inOrder).toBe(true);
    expect(firstLateAfterHealMs).not.toBeNull();
    expect(firstLateAfterHealMs!).toBeLessThan(2_000);
    // Requests cannot be read meanwhile: each fails at its sendTimeout, then requests succeed again.
    expect(sendsFailedInPartition).toBeGreaterThan(0);
    expect([...load.sends.errors]).toEqual(['RedisTransportTimeoutError']);
    // The connection never closed, so the server's status never left "connected".
    expect(seen.filter((s) => s !== seen[0])).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('pub/sub, partition ended by a reset: the subscriber reconnects and resubscribes by itself; events published to the dead connection are lost (at most once)', async () => {
    const recorder = new TimedRecorder();
    const strategy = await start('pubsub', recorder);
    const seen = statuses(strategy);
    const load = new EmitLoad(client!, `${NS}.booking.created`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const subPort = await upstreamPortOf(observer, 'nest-redis:transport:server-sub');
    proxy.blackHoleConnection(subPort);
    await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
    const cutAt = Date.now();
    proxy.cutConnection(subPort);
    const resubscribed = await eventually(async () => {
      const subs = (await observer.pubsub('NUMSUB', `${NS}.booking.created`)) as [string, number];
      return subs[1] === 1;
    }, 10_000);
    const resubscribedAfterMs = Date.now() - cutAt;
    const beforeResume = recorder.arrivals.length;
    await eventually(() => recorder.arrivals.length > beforeResume + 20, 10_000);
    const resumedAt = recorder.arrivals[beforeResume]?.at;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await load.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const acknowledged = [...load.acknowledged.keys()];
    const lost = acknowledged.filter((seq) => !recorder.seqs().has(seq));
    print(`Transport: pub/sub subscriber black-holed ${PARTITION_MS} ms, then its connection reset`, {
      acknowledgedEmits: acknowledged.length,
      handled: recorder.arrivals.length,
      lostAcknowledgedEvents: lost.length,
      lostRange: lost.length > 0 ? [lost[0], lost[lost.length - 1]] : [],
      resubscribedAfterResetMs: resubscribedAfterMs,
      handlingResumedAfterResetMs: resumedAt === undefined ? null : resumedAt - cutAt,
      serverStatuses: seen,
      unhandledRejections: unhandled.length,
    });

    expect(resubscribed).toBe(true);
    expect(resumedAt).toBeDefined();
    // Pub/sub delivers at most once: what Redis had queued for the reset connection is gone. Every event lost was
    // published during the partition (a contiguous run), none after the subscriber was back.
    expect(lost.length).toBeGreaterThan(0);
    expect(lost[lost.length - 1] - lost[0] + 1).toBe(lost.length);
    expect(recorder.duplicates()).toBe(0);
    expect(seen).toContain('reconnecting');
    expect(seen[seen.length - 1]).toBe('connected');
    expect(unhandled).toEqual([]);
  });

  it('streams, partition ended by a reset: the reader reconnects, every acknowledged event is handled (none lost)', async () => {
    const recorder = new TimedRecorder();
    const strategy = await start('streams', recorder);
    const seen = statuses(strategy);
    const load = new EmitLoad(client!, `${NS}.created`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const readerName = `nest-redis:transport:server-stream:${NS}.created`;
    const readerPort = await upstreamPortOf(observer, readerName);
    const from = Date.now();
    proxy.blackHoleConnection(readerPort);
    await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
    const cutAt = Date.now();
    proxy.cutConnection(readerPort);
    const handledDuringPartition = recorder.arrivals.filter((a) => a.at > from + 500 && a.at < cutAt).length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await load.stop();
    const acknowledged = [...load.acknowledged.keys()];
    const allHandled = await eventually(() => acknowledged.every((seq) => recorder.seqs().has(seq)), 30_000);
    const lastHandledAfterResetMs = Math.max(...recorder.arrivals.map((a) => a.at)) - cutAt;
    const lost = acknowledged.filter((seq) => !recorder.seqs().has(seq));
    print(`Transport: streams server's reader connection black-holed ${PARTITION_MS} ms, then reset`, {
      acknowledgedEmits: acknowledged.length,
      handled: recorder.arrivals.length,
      handledDuringPartition,
      lostAcknowledgedEvents: lost.length,
      redelivered: recorder.duplicates(),
      // The batch Redis handed to the dead connection sits in the group's pending list until the reclaimer takes it.
      handledMoreThan3sAfterReset: recorder.arrivals.filter((a) => a.at > cutAt + 3_000).length,
      allHandledWithinMsAfterReset: lastHandledAfterResetMs,
      serverStatuses: seen,
      unhandledRejections: unhandled.length,
    });

    // The reader's connection is blocked, so nothing is handled meanwhile; the entries stay in the stream (or, for
    // the batch Redis handed to the dead connection, in the group's pending list) until a reader takes them.
    expect(handledDuringPartition).toBe(0);
    expect(allHandled).toBe(true);
    expect(lost).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
