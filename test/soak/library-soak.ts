import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockService, RedisModule } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess } from '../harness/redis-server-process.js';

type Kind = 'cache' | 'lock' | 'emit' | 'send';
const KINDS: Kind[] = ['cache', 'lock', 'emit', 'send'];
const keyPrefix = 'soak:';

/** One minute's figures per kind: operations, errors and latencies (kept per minute only, so memory stays flat). */
class Minute {
  readonly ops = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
  readonly errors = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
  readonly latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));

  record(kind: Kind, ms: number, ok: boolean): void {
    this.ops.set(kind, this.ops.get(kind)! + 1);
    if (!ok) this.errors.set(kind, this.errors.get(kind)! + 1);
    const list = this.latencies.get(kind)!;
    if (list.length < 50_000) list.push(ms);
  }

  p99(kind: Kind): number {
    const list = this.latencies.get(kind)!.sort((a, b) => a - b);
    return list.length === 0 ? 0 : list[Math.min(list.length - 1, Math.floor(list.length * 0.99))];
  }
}

const received = new Set<number>();

@Controller()
class SoakController {
  @EventPattern('soak.created')
  created(@Payload() data: { seq: number }) {
    received.add(data.seq);
  }

  @MessagePattern('soak.sum')
  sum(@Payload() numbers: number[]) {
    return numbers.reduce((a, b) => a + b, 0);
  }
}

@Module({ controllers: [SoakController] })
class SoakTransportModule {}

/**
 * `npm run soak -- --target library`: a long run of steady cache + lock + transport load on one process against a
 * throwaway `redis-server` (AOF `always`, restarted every `restartEvery` minutes, 0 for never), printing one row per
 * minute: RSS, heap, live handles, event-loop lag p99, operations, errors and latency p99 per kind, and the
 * invariants (overlapping lock sections, acknowledged events not handled). Not part of CI.
 *
 * @returns the exit code: 0 when no acknowledged event was lost and no lock sections overlapped
 */
export async function runLibrarySoak({
  minutes,
  restartEvery,
}: {
  minutes: number;
  restartEvery: number;
}): Promise<number> {
  const redis = await RedisServerProcess.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const connection = { url: redis.url, keyPrefix };
  const app = await NestFactory.createApplicationContext(
    RedisModule.forRoot({ ...connection, cache: { ttl: 2_000 }, lock: { ttl: 2_000 } }),
    { logger: ['error'] },
  );
  const servers = [
    await NestFactory.createMicroservice(SoakTransportModule, {
      strategy: new RedisTransportServer({ ...connection, sendTimeout: 1_000 }),
      logger: ['error'],
    }),
    await NestFactory.createMicroservice(SoakTransportModule, {
      strategy: new RedisTransportServer({
        ...connection,
        mode: 'streams',
        streams: { group: 'soak', blockTime: 200 },
      }),
      logger: ['error'],
    }),
  ];
  for (const server of servers) await server.listen();
  const client = new RedisTransportClient({ ...connection, sendTimeout: 1_000 });
  const streamsClient = new RedisTransportClient({ ...connection, mode: 'streams' });
  await Promise.all([client.connect(), streamsClient.connect()]);
  const cache = app.get(CacheService);
  const locks = app.get(LockService);

  let minute = new Minute();
  let running = true;
  let seq = 0;
  let inside = 0;
  let overlaps = 0;
  const acknowledged = new Set<number>();

  async function loop(kind: Kind, operation: () => Promise<void>): Promise<void> {
    while (running) {
      const started = performance.now();
      let ok = true;
      try {
        await operation();
      } catch {
        ok = false;
      }
      minute.record(kind, performance.now() - started, ok);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  let i = 0;
  const loops = [
    ...[0, 1, 2, 3].map(() =>
      loop('cache', async () => {
        const key = `item:${i++ % 500}`;
        const value = await cache.wrap(key, () => ({ key, at: Date.now() }), { ttl: 2_000 });
        if (value.key !== key) throw new Error('wrong value');
      }),
    ),
    ...[0, 1].map(() =>
      loop('lock', async () => {
        // Every lock loop contends for the same resource: `inside` counts holders in this process.
        const lock = await locks.acquire('section', { waitTimeout: 1_000 });
        if (++inside > 1) overlaps++;
        await new Promise((resolve) => setTimeout(resolve, 2));
        inside--;
        await lock.release();
      }),
    ),
    ...[0, 1].map(() =>
      loop('emit', async () => {
        const n = seq++;
        await lastValueFrom(streamsClient.emit('soak.created', { seq: n }));
        acknowledged.add(n);
      }),
    ),
    loop('send', async () => {
      if ((await lastValueFrom(client.send<number>('soak.sum', [1, 2]))) !== 3) throw new Error('wrong sum');
    }),
  ];

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const rows: string[][] = [];
  const header = [
    'min',
    'RSS MB',
    'heap MB',
    'handles',
    'lag p99 ms',
    ...KINDS.map((k) => `${k} ops/err`),
    ...KINDS.map((k) => `${k} p99 ms`),
    'overlaps',
    'acks not yet handled',
    'event',
  ];
  const print = (cells: string[]) => process.stdout.write(`| ${cells.join(' | ')} |\n`);
  print(header);
  print(header.map(() => '---'));
  const startedAt = Date.now();
  for (let m = 1; m <= minutes; m++) {
    let event = '';
    const restartAt = restartEvery > 0 && m % restartEvery === 0 ? startedAt + (m - 0.5) * 60_000 : 0;
    if (restartAt) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, restartAt - Date.now())));
      const stoppedAt = Date.now();
      await redis.stop({ keepDir: true });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await redis.restart();
      event = `Redis stopped ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + m * 60_000 - Date.now())));
    const done = minute;
    minute = new Minute();
    // Acknowledged events older than 10 s that no handler saw (handled ones are forgotten, so the sets stay small).
    for (const n of [...acknowledged]) {
      if (received.has(n)) {
        acknowledged.delete(n);
        received.delete(n);
      }
    }
    const usage = process.memoryUsage();
    const row = [
      String(m),
      (usage.rss / 1_048_576).toFixed(1),
      (usage.heapUsed / 1_048_576).toFixed(1),
      String(process.getActiveResourcesInfo().length),
      (lag.percentile(99) / 1e6).toFixed(1),
      ...KINDS.map((k) => `${done.ops.get(k)}/${done.errors.get(k)}`),
      ...KINDS.map((k) => done.p99(k).toFixed(1)),
      String(overlaps),
      String(acknowledged.size),
      event,
    ];
    lag.reset();
    rows.push(row);
    print(row);
  }
  running = false;
  await Promise.all(loops);
  // Let the last events arrive before counting the lost ones.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && [...acknowledged].some((n) => !received.has(n))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const lost = [...acknowledged].filter((n) => !received.has(n)).length;
  process.stdout.write(
    `\nSoak of ${minutes} min: ${seq} events emitted, acknowledged events lost ${lost}, overlapping lock sections ${overlaps}.\n`,
  );
  await client.close();
  await streamsClient.close();
  for (const server of servers) await server.close();
  await app.close();
  await redis.stop();
  lag.disable();
  return lost === 0 && overlaps === 0 ? 0 : 1;
}
