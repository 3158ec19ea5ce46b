import { getRedisConnectionToken, LockService, RedisModule } from '@app/redis';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex, RedlockMutex } from 'redis-semaphore';
import { RedisServerProcess } from '../../test/harness/redis-server-process.js';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';
import { LatencyHistogram } from '../harness/latency-histogram.js';

/** Workers contending for one key in the contended groups; each has its own connections, like a separate process. */
const WORKERS = 8;
/** Lock lifetime for every library: long enough that nothing expires during a round. */
const TTL_MS = 10_000;
/** The anchors' retry interval while waiting (their usual setting; redis-semaphore's default). */
const ANCHOR_POLL_MS = 10;
/** How long any contender waits for the lock before giving up (ours: `waitTimeout`; the anchors: their retry budget). */
const WAIT_BOUND_MS = 30_000;
/**
 * Contended workloads: each worker acquires, INCRs a counter (the protected work), releases, then either comes
 * straight back for the lock or first does 1 ms of work that needs no lock (a worker with other things to do).
 */
const CONTENDED_VARIANTS: Array<[string, number]> = [
  ['back-to-back', 0],
  ['1 ms between', 1],
];
/** Acquire+release pairs run against throwaway nodes to count the round trips each library makes. */
const ROUND_TRIP_PROBE = 200;
/** Acquire+release pairs run against the quiet throwaway nodes to time the commands each library makes Redis run. */
const COMMAND_TIME_PROBE = 2_000;

type Acquire = () => Promise<() => Promise<unknown>>;

/** One contender in one topology: a way to acquire (returning the release) per worker, and how to close it. */
interface Contender {
  name: string;
  anchor: boolean;
  /** This library (the headline compares it with the best of the others). */
  ours?: boolean;
  /** One entry per worker; worker 0 also runs the uncontended case. */
  workers: Acquire[];
}

/** Wait times and acquisitions per worker of one contended case, over every round (warm-up included). */
class ContentionStats {
  readonly waits = new LatencyHistogram();
  readonly perWorker: number[] = new Array<number>(WORKERS).fill(0);
  /** Acquisitions that gave up after the wait bound (`WAIT_BOUND_MS`): they count as operations but not as grants. */
  failures = 0;

  constructor(
    readonly group: string,
    readonly ours: boolean,
  ) {}

  fairness(): number {
    const min = Math.min(...this.perWorker);
    return min === 0 ? Number.POSITIVE_INFINITY : Math.max(...this.perWorker) / min;
  }
}

/**
 * A contended case: `WORKERS` in flight, each run borrowing an idle worker (with 8 loops and 8 workers, each loop
 * keeps its worker), timing the acquire wait separately from the whole acquire → INCR → release.
 */
function contendedCase(
  group: string,
  contender: Contender,
  counterClient: Redis,
  counterKey: string,
  stats: Map<string, ContentionStats>,
  thinkMs: number,
): BenchCase {
  const idle = contender.workers.map((_, i) => i);
  const caseStats = new ContentionStats(group, contender.ours === true);
  stats.set(`${group} › ${contender.name}`, caseStats);
  return {
    name: contender.name,
    group,
    anchor: contender.anchor,
    ours: contender.ours,
    target: contender.ours ? (thinkMs > 0 ? 2 : 1.2) : undefined,
    concurrency: WORKERS,
    async run() {
      const worker = idle.shift() as number;
      try {
        const begin = process.hrtime.bigint();
        let release: () => Promise<unknown>;
        try {
          release = await contender.workers[worker]();
        } catch {
          // A contender that cannot get the lock within the wait bound (Redlock's split votes can livelock) is
          // recorded and the loop goes on, instead of failing or hanging the whole suite.
          caseStats.failures += 1;
          return;
        }
        caseStats.waits.record(Number(process.hrtime.bigint() - begin));
        caseStats.perWorker[worker] += 1;
        await counterClient.incr(counterKey);
        await release();
        if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
      } finally {
        idle.push(worker);
      }
    },
  };
}

function uncontendedCase(group: string, contender: Contender): BenchCase {
  return {
    name: contender.name,
    group,
    anchor: contender.anchor,
    ours: contender.ours,
    target: contender.ours ? 1.2 : undefined,
    concurrency: 1,
    async run() {
      const release = await contender.workers[0]();
      await release();
    },
  };
}

/**
 * Commands each client sends per acquire+release, per node: MONITOR on the nodes (nobody else uses them) counts the
 * top-level commands, leaving out the ones a Lua script runs. Every command is a round trip the caller waits for
 * (nodes are asked in parallel), so this is the round-trip count.
 */
async function commandsPerPair(urls: string[], acquire: Acquire): Promise<number> {
  const clients = urls.map((url) => new Redis(url));
  const monitors = await Promise.all(clients.map((c) => c.monitor()));
  let commands = 0;
  monitors.forEach((m) =>
    m.on('monitor', (_time: string, _args: string[], source: string) => {
      if (source !== 'lua') commands += 1;
    }),
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    commands = 0;
    for (let i = 0; i < ROUND_TRIP_PROBE; i++) {
      const release = await acquire();
      await release();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    return commands / ROUND_TRIP_PROBE / urls.length;
  } finally {
    monitors.forEach((m) => m.disconnect());
    clients.forEach((c) => c.disconnect());
  }
}

/**
 * Time Redis spends executing one acquire+release's commands, summed over the nodes (`INFO commandstats` usec, reset
 * first with `CONFIG RESETSTAT`): what the scripts cost inside Redis, apart from reading requests and writing
 * replies. Stable from run to run where CPU per operation is not, since only the nodes' own work is counted.
 */
async function commandTimePerPair(urls: string[], acquire: Acquire): Promise<{ us: number; commands: number }> {
  const clients = urls.map((url) => new Redis(url));
  try {
    await Promise.all(clients.map((c) => c.config('RESETSTAT')));
    for (let i = 0; i < COMMAND_TIME_PROBE; i++) {
      const release = await acquire();
      await release();
    }
    // Releases settle with a majority: let the last node's arrive before reading.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let usec = 0;
    let calls = 0;
    for (const info of await Promise.all(clients.map((c) => c.info('commandstats')))) {
      for (const [, name, count, time] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)) {
        if (name === 'info' || name === 'config') continue;
        calls += Number(count);
        usec += Number(time);
      }
    }
    return { us: usec / COMMAND_TIME_PROBE, commands: calls / COMMAND_TIME_PROBE };
  } finally {
    clients.forEach((c) => c.disconnect());
  }
}

/**
 * LockService against @sesamecare-oss/redlock and redis-semaphore (Mutex / RedlockMutex): acquire+release
 * uncontended, and 8 workers (each with its own connections) on one key doing acquire → INCR → release, back to
 * back or with 1 ms of unlocked work in between, on the runner's Redis (single node) and on 3 throwaway
 * redis-servers (Redlock). The anchors poll every 10 ms while
 * waiting; LockService waiters are woken by the release. Wait percentiles, fairness (max ÷ min acquisitions per
 * worker) and commands per acquire+release per node are printed after the table (stderr).
 */
export const lockSuite: BenchSuite = {
  description: 'LockService vs @sesamecare-oss/redlock and redis-semaphore: single node and 3-node Redlock',

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('lock');
    const nodes: RedisServerProcess[] = [];
    const apps: INestApplicationContext[] = [];
    const clients: Redis[] = [];
    const redlocks: Redlock[] = [];
    const stats = new Map<string, ContentionStats>();
    const roundTrips: string[] = [];
    const notes: string[] = [];
    const client = (url: string) => {
      const c = new Redis(url);
      clients.push(c);
      return c;
    };
    const main = client(redisUrl);

    const teardown = async (): Promise<void> => {
      try {
        for (const [name, s] of stats) {
          const ms = (ns: number) => (ns / 1e6).toFixed(2);
          notes.push(
            `${name}: wait p50 ${ms(s.waits.percentile(0.5))} ms, p99 ${ms(s.waits.percentile(0.99))} ms, ` +
              `max ${ms(s.waits.max)} ms; acquisitions per worker ${s.perWorker.join('/')}, fairness ` +
              `${s.fairness().toFixed(2)}${s.failures > 0 ? `; gave up after ${WAIT_BOUND_MS} ms: ${s.failures}` : ''}`,
          );
        }
        const contended = [...stats.values()];
        for (const s of contended.filter((c) => c.ours)) {
          const rivals = contended.filter((c) => c.group === s.group && !c.ours);
          const bestP99 = Math.min(...rivals.map((r) => r.waits.percentile(0.99)));
          // The issue-16 targets for back-to-back contention: p99 wait ≤ 1/5 of the best rival's, fairness ≤ 3.
          const targets = s.group.endsWith('back-to-back');
          notes.push(
            `${s.group}: ours wait p99 ÷ best rival's ${(s.waits.percentile(0.99) / bestP99).toFixed(2)}` +
              `${targets ? ' (target ≤ 0.2)' : ''}, fairness ${s.fairness().toFixed(2)}${targets ? ' (target ≤ 3)' : ''}`,
          );
        }
        notes.push(...roundTrips);
        notes.forEach((line) => log(line));
        if (main.status === 'ready') log(`Deleted ${await deleteBenchKeys(main, prefix)} keys under ${prefix}`);
      } finally {
        await Promise.allSettled(apps.map((app) => app.close()));
        await Promise.allSettled(redlocks.map((r) => r.quit()));
        await Promise.allSettled(clients.map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
        await Promise.allSettled(nodes.map((n) => n.stop()));
      }
    };

    const ours = async (urls: string[] | undefined, url: string): Promise<Acquire[]> => {
      const workers: Acquire[] = [];
      for (let i = 0; i < WORKERS; i++) {
        const app = await NestFactory.createApplicationContext(
          RedisModule.forRoot({ url, keyPrefix: prefix, lock: { ttl: TTL_MS, ...(urls && { nodes: urls }) } }),
          { logger: false },
        );
        apps.push(app);
        const locks = app.get(LockService);
        workers.push(async () => {
          const lock = await locks.acquire('key', { waitTimeout: WAIT_BOUND_MS });
          return () => lock.release();
        });
      }
      return workers;
    };
    const redlockAnchor = (urls: string[]): Acquire[] =>
      Array.from({ length: WORKERS }, () => {
        const redlock = new Redlock(
          urls.map((u) => client(u)),
          // Retries for as long as the others may wait (not forever: split votes between 8 workers can livelock it).
          {
            retryCount: Math.ceil(WAIT_BOUND_MS / ANCHOR_POLL_MS),
            retryDelay: ANCHOR_POLL_MS,
            retryJitter: ANCHOR_POLL_MS / 2,
          },
        );
        redlocks.push(redlock);
        return async () => {
          const lock = await redlock.acquire([`${prefix}redlock:key`], TTL_MS);
          return () => lock.release();
        };
      });
    const semaphoreAnchor = (urls: string[]): Acquire[] =>
      Array.from({ length: WORKERS }, () => {
        const workerClients = urls.map((u) => client(u));
        const options = { lockTimeout: TTL_MS, acquireTimeout: WAIT_BOUND_MS, retryInterval: ANCHOR_POLL_MS };
        return async () => {
          const mutex =
            workerClients.length === 1
              ? new Mutex(workerClients[0], `${prefix}semaphore:key`, options)
              : new RedlockMutex(workerClients, `${prefix}semaphore:key`, options);
          await mutex.acquire();
          return () => mutex.release();
        };
      });

    try {
      await main.ping();
      for (let i = 0; i < 4; i++) nodes.push(await RedisServerProcess.start());
      const probeNode = nodes[3];
      const nodeUrls = nodes.slice(0, 3).map((n) => n.url);
      log(`Started 4 throwaway redis-servers (3 Redlock nodes + 1 round-trip probe)`);

      const topologies: Array<{ label: string; contenders: Contender[] }> = [
        {
          label: 'single node',
          contenders: [
            { name: '@sesamecare-oss/redlock', anchor: true, workers: redlockAnchor([redisUrl]) },
            { name: 'redis-semaphore Mutex', anchor: false, workers: semaphoreAnchor([redisUrl]) },
            { name: 'LockService', anchor: false, ours: true, workers: await ours(undefined, redisUrl) },
          ],
        },
        {
          label: '3 nodes',
          contenders: [
            { name: '@sesamecare-oss/redlock', anchor: true, workers: redlockAnchor(nodeUrls) },
            { name: 'redis-semaphore RedlockMutex', anchor: false, workers: semaphoreAnchor(nodeUrls) },
            { name: 'LockService (Redlock)', anchor: false, ours: true, workers: await ours(nodeUrls, redisUrl) },
          ],
        },
      ];

      // Round trips: the same libraries pointed at the quiet probe node (single) and at the 3 nodes (Redlock).
      const probes: Array<[string, string[], Acquire]> = [
        ['single node · @sesamecare-oss/redlock', [probeNode.url], redlockAnchor([probeNode.url])[0]],
        ['single node · redis-semaphore Mutex', [probeNode.url], semaphoreAnchor([probeNode.url])[0]],
        ['single node · LockService', [probeNode.url], (await ours(undefined, probeNode.url))[0]],
        ['3 nodes · @sesamecare-oss/redlock', nodeUrls, topologies[1].contenders[0].workers[0]],
        ['3 nodes · redis-semaphore RedlockMutex', nodeUrls, topologies[1].contenders[1].workers[0]],
        ['3 nodes · LockService (Redlock)', nodeUrls, topologies[1].contenders[2].workers[0]],
      ];
      // Every probe's connections are up (ready checks sent) and its scripts loaded before any MONITOR starts: a
      // monitored command arriving in the packet that confirms MONITOR breaks ioredis' reply queue.
      for (const [, , acquire] of probes) await (await acquire())();
      for (const [name, observers, acquire] of probes) {
        const perNode = await commandsPerPair(observers, acquire);
        roundTrips.push(`${name}: ${perNode.toFixed(2)} round trips (commands sent per node) per acquire+release`);
      }
      for (const [name, observers, acquire] of probes) {
        const { us, commands } = await commandTimePerPair(observers, acquire);
        roundTrips.push(
          `${name}: Redis runs ${commands.toFixed(2)} commands in ${us.toFixed(2)} µs per acquire+release ` +
            `(all nodes, INFO commandstats, ${COMMAND_TIME_PROBE} uncontended pairs)`,
        );
      }
      // The module's own connection is unused by the probe; keep it warm so the first case does not pay for it.
      await apps[0].get<Redis>(getRedisConnectionToken()).ping();

      const cases: BenchCase[] = [];
      for (const { label, contenders } of topologies) {
        for (const contender of contenders) cases.push(uncontendedCase(`${label} · uncontended`, contender));
      }
      for (const { label, contenders } of topologies) {
        const counterKey = `${prefix}counter:${label.replace(/\s/g, '-')}`;
        for (const [variant, thinkMs] of CONTENDED_VARIANTS) {
          for (const contender of contenders) {
            const group = `${label} · ${WORKERS} workers, one key, ${variant}`;
            cases.push(contendedCase(group, contender, main, counterKey, stats, thinkMs));
          }
        }
      }
      return { cases, teardown, notes, involved: { redisUrls: nodeUrls } };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
