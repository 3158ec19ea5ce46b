import type { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RedisModule, type RedisConnectionOptions } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { eventually, silentLogger } from '@test/harness';
import { BEHAVIOUR, streamsFixtureController } from '../../transport/fixtures/streams-fixtures.js';
import { Recorder, pubSubFixtureController, startMicroservice } from '../../transport/fixtures/transport-fixtures.js';
import { MixedLoad, type KindReport, type OperationKind } from './mixed-load.js';

export const NS = 'fault';

/** The module (cache + locks), a pub/sub and a streams server, and their clients, all on one Redis. */
export class LoadStack {
  readonly recorder = new Recorder();
  app!: INestApplicationContext;
  client!: RedisTransportClient;
  streamsClient!: RedisTransportClient;
  private servers: INestMicroservice[] = [];

  /** @param streamsClient extra options of the streams client (such as `streams.durability`) */
  static async start(
    connection: RedisConnectionOptions,
    keyPrefix: string,
    streamsClient: Record<string, unknown> = {},
  ): Promise<LoadStack> {
    const stack = new LoadStack();
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ ...connection, keyPrefix, cache: { ttl: 500 }, lock: { ttl: 2_000 } })],
    })
      .setLogger(silentLogger)
      .compile();
    stack.app = await moduleRef.init();
    const transport = { ...connection, keyPrefix, sendTimeout: 1_000 };
    stack.servers = [
      await startMicroservice(new RedisTransportServer(transport), pubSubFixtureController(NS), stack.recorder),
      await startMicroservice(
        new RedisTransportServer({ ...transport, mode: 'streams', streams: { group: 'outage', blockTime: 200 } }),
        streamsFixtureController(NS),
        stack.recorder,
        false,
        [{ provide: BEHAVIOUR, useValue: { running: 0, maxRunning: 0, slowMs: 0, flakyAttempts: new Map() } }],
      ),
    ];
    stack.client = new RedisTransportClient(transport);
    stack.streamsClient = new RedisTransportClient({ ...transport, mode: 'streams', ...streamsClient });
    await Promise.all([stack.client.connect(), stack.streamsClient.connect()]);
    return stack;
  }

  received(): Set<number> {
    return new Set(
      this.recorder.events
        .filter((e) => e.pattern === 'created')
        .map((e) => ((e.data as { data: { seq: number } }).data ?? { seq: -1 }).seq),
    );
  }

  /** Closes everything; resolves with how long it took. */
  async close(): Promise<number> {
    const started = Date.now();
    await this.client.close();
    await this.streamsClient.close();
    for (const server of this.servers) await server.close();
    await this.app.close();
    return Date.now() - started;
  }
}

/** The numbers each fault test prints for docs/RELIABILITY.md. */
export function summary(
  title: string,
  report: Record<OperationKind, KindReport>,
  extra: Record<string, unknown>,
): string {
  const rows = Object.entries(report).map(
    ([kind, r]) =>
      `  ${kind.padEnd(5)} ok=${r.ok} failed=${r.failed} (in outage window ${r.failedInWindow}) slowest=${r.slowestMs}ms ` +
      `recovered ${r.recoveredAfterMs ?? 'never'} ms after Redis came back${r.errors.length ? `; errors: ${r.errors.join(' | ')}` : ''}`,
  );
  return `\n[fault] ${title}\n${rows.join('\n')}\n  ${JSON.stringify(extra)}\n`;
}

/** What one fault run measured. */
export interface FaultRun {
  report: Record<OperationKind, KindReport>;
  /** The kinds of operation that had not succeeded again 30 s after the fault ended (so a failure names them). */
  notRecovered: OperationKind[];
  acknowledged: number;
  lost: number[];
  closeMs: number;
}

/**
 * Runs the mixed load on `stack` for 3 s, injects `fault` (resolves when the test stops interfering: Redis resumed,
 * restarted, or the master killed), waits until every kind of operation succeeded again by itself, lets the load run
 * 2 s more, then checks that every durable event Redis acknowledged reached its handler, and closes the stack.
 */
export async function runUnderLoad(stack: LoadStack, fault: () => Promise<void>): Promise<FaultRun> {
  const load = new MixedLoad({
    app: stack.app,
    client: stack.client,
    streamsClient: stack.streamsClient,
    sendPattern: `${NS}.sum`,
    emitPattern: `${NS}.created`,
  });
  load.start();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const downAt = Date.now();
  await fault();
  const upAt = Date.now();
  const kinds: OperationKind[] = ['cache', 'lock', 'emit', 'send'];
  const stillDown = () => kinds.filter((k) => load.report(downAt, upAt)[k].recoveredAfterMs === null);
  await eventually(() => stillDown().length === 0, 30_000);
  const notRecovered = stillDown();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await load.stop();
  const report = load.report(downAt, upAt);
  await eventually(() => [...load.acknowledged].every((seq) => stack.received().has(seq)), 15_000);
  const lost = [...load.acknowledged].filter((seq) => !stack.received().has(seq));
  const closeMs = await stack.close();
  return { report, notRecovered, acknowledged: load.acknowledged.size, lost, closeMs };
}
