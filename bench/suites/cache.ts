import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache, KeyvAdapter, type CacheManagerStore } from 'cache-manager';
import { redisInsStore } from 'cache-manager-ioredis-yet';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { Cacheable, CacheService, RedisModule } from '@app/redis';
import { RedisServerProcess } from '../../test/harness/redis-server-process.js';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';
import { runOperations } from '../harness/run-workload.js';

/** cache-manager-ioredis-yet is typed against cache-manager 5; cache-manager 7's KeyvAdapter runs it as is. */
function legacyStore(store: unknown): CacheManagerStore {
  return store as CacheManagerStore;
}

/** Warm keys cycled through by the hit workloads. */
const KEY_COUNT = 1_000;
const IN_FLIGHT = 100;
/** Callers of one cold key in the burst workload, and how long its loader takes. */
const BURST_CALLERS = 1_000;
const BURST_LOADER_MS = 5;
const TTL_MS = 600_000;

/** A typical cached method result: a small record, ~150 bytes of JSON. */
function venue(id: number) {
  return { id, name: `Venue ${id}`, city: 'Oslo', capacity: 120 + (id % 50), tags: ['music', 'bar'], open: true };
}

/** Counts loader calls of the burst workload per contender. */
const burstLoads = { ours: 0, cacheManager: 0, bentocache: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Injectable()
class VenueReader {
  @Cacheable({ ttl: TTL_MS })
  async venue(id: number): Promise<ReturnType<typeof venue>> {
    return venue(id);
  }

  @Cacheable({ ttl: TTL_MS, key: (key: string) => key })
  async burst(_key: string): Promise<string> {
    burstLoads.ours++;
    await sleep(BURST_LOADER_MS);
    return 'loaded';
  }
}

@Module({ providers: [VenueReader] })
class VenueModule {}

async function bootOurs(
  redisUrl: string,
  keyPrefix: string,
  l1: boolean,
  tracking = false,
): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    {
      module: class OursBenchModule {},
      imports: [
        RedisModule.forRoot({
          url: redisUrl,
          keyPrefix,
          cache: { ttl: TTL_MS, ...(l1 ? { l1: { maxEntries: 10_000, ttl: TTL_MS, tracking } } : {}) },
        }),
        VenueModule,
      ],
    },
    { logger: false },
  );
}

/** Runs one burst of callers on a fresh key; resolves when the last one has its answer. */
function burstOf(
  call: (key: string) => Promise<unknown>,
  label: string,
  counter: { n: number },
): () => Promise<unknown> {
  return () => {
    const key = `burst:${label}:${counter.n++}`;
    return Promise.all(Array.from({ length: BURST_CALLERS }, () => call(key)));
  };
}

/** Operations of one CPU probe, and probes per contender (the median is reported). */
const PROBE_OPS = 20_000;
const PROBE_REPEATS = 3;

/** CPU time (user + system) redis-server has used so far, in µs, from `INFO cpu`. */
async function serverCpuUs(server: Redis): Promise<number> {
  const cpu = await server.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
}

/**
 * CPU time per operation of this process and of a throwaway redis-server nobody else uses, `PROBE_OPS` operations at
 * `concurrency` in flight, median of `PROBE_REPEATS`: unlike ops/s on a shared machine, it does not move with other
 * processes' load.
 */
async function cpuPerOp(
  name: string,
  server: Redis,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ name: string; nodeUs: number; redisUs: number }> {
  const nodeRuns: number[] = [];
  const redisRuns: number[] = [];
  for (let repeat = 0; repeat < PROBE_REPEATS; repeat++) {
    const redisBefore = await serverCpuUs(server);
    const before = process.cpuUsage();
    await runOperations(PROBE_OPS, concurrency, op);
    const used = process.cpuUsage(before);
    nodeRuns.push((used.user + used.system) / PROBE_OPS);
    redisRuns.push(((await serverCpuUs(server)) - redisBefore) / PROBE_OPS);
  }
  const median = (runs: number[]) => runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return { name, nodeUs: median(nodeRuns), redisUs: median(redisRuns) };
}

/**
 * Group (a) again, on a throwaway redis-server, reported as CPU time per hit (Node and redis-server), plus the two
 * candidate batch reads of 100 keys (MGET, and the cache's script of GETs) to show what the script costs.
 */
async function probeHitCpu(log: (line: string) => void): Promise<string[]> {
  const server = await RedisServerProcess.start();
  const admin = new Redis(server.url);
  const raw = new Redis(server.url);
  const prefix = uniqueBenchPrefix('cache-cpu');
  let app: INestApplicationContext | undefined;
  try {
    app = await bootOurs(server.url, `${prefix}ours:`, false);
    const reader = app.get(VenueReader);
    const seed = raw.pipeline();
    for (let i = 0; i < KEY_COUNT; i++) seed.set(`${prefix}raw:${i}`, JSON.stringify(venue(i)), 'PX', TTL_MS);
    await seed.exec();
    for (let i = 0; i < KEY_COUNT; i++) await reader.venue(i);
    const hundred = Array.from({ length: 100 }, (_x, i) => `${prefix}raw:${i}`);
    const getLoop = "local v = {} for i = 1, #KEYS do v[i] = redis.call('GET', KEYS[i]) end return v";
    const sha = (await raw.script('LOAD', getLoop)) as string;
    log(`CPU probes: ${PROBE_OPS} ops × ${PROBE_REPEATS} per contender on a throwaway redis-server`);
    const results = [
      await cpuPerOp('ioredis getBuffer + JSON.parse (anchor)', admin, IN_FLIGHT, async (i) =>
        JSON.parse(((await raw.getBuffer(`${prefix}raw:${i % KEY_COUNT}`)) as Buffer).toString()),
      ),
      await cpuPerOp('@Cacheable (Redis)', admin, IN_FLIGHT, (i) => reader.venue(i % KEY_COUNT)),
    ];
    const lines = results.map(
      (r) =>
        `(a) CPU per hit, ${IN_FLIGHT} in flight: ${r.name}: ${r.nodeUs.toFixed(1)} µs Node + ${r.redisUs.toFixed(1)} µs ` +
        `redis-server = ${(r.nodeUs + r.redisUs).toFixed(1)} µs`,
    );
    const [anchor, ours] = results as [(typeof results)[0], (typeof results)[0]];
    lines.push(
      `(a) CPU ratio (anchor ÷ ours, higher is better): Node ${(anchor.nodeUs / ours.nodeUs).toFixed(2)}×, ` +
        `Node + redis-server ${((anchor.nodeUs + anchor.redisUs) / (ours.nodeUs + ours.redisUs)).toFixed(2)}×`,
    );
    const batches = [
      await cpuPerOp('MGET of 100 keys', admin, 4, () => raw.mgetBuffer(hundred)),
      await cpuPerOp('EVALSHA of 100 GETs (the cache’s batch read)', admin, 4, () =>
        raw.callBuffer('evalsha', sha, hundred.length, ...hundred),
      ),
    ];
    for (const r of batches) {
      lines.push(
        `batch read, 4 in flight: ${r.name}: ${r.nodeUs.toFixed(1)} µs Node + ${r.redisUs.toFixed(1)} µs redis-server`,
      );
    }
    return lines;
  } finally {
    await app?.close();
    admin.disconnect();
    raw.disconnect();
    await server.stop();
  }
}

/**
 * The cache against its anchors, in one run:
 * (a) `@Cacheable` hit from Redis vs raw `ioredis.getBuffer` + `JSON.parse` of the same payload (target ≥ 2×: the
 *     hits of one event-loop turn are read with one command), also as CPU time per hit on a throwaway redis-server,
 *     printed after the table;
 * (b) `@Cacheable` L1 hit vs Redis hit, sequential and 100 in flight (target ≥ 20×);
 * (c) the same get-or-load workload on warm keys through cache-manager 7 `wrap` (Keyv over ioredis), bentocache
 *     (Redis L2 only) and ours (target ≥ 1.3× both);
 * (d) a burst of 1,000 callers on one cold key (loader 5 ms): bursts/s and time to the last answer (p50), with the
 *     loader calls per burst in the case name.
 */
export const cacheSuite: BenchSuite = {
  description: '@Cacheable vs raw ioredis, L1 vs Redis, and ours vs cache-manager 7 (Keyv) and bentocache (Redis L2)',

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('cache');
    const raw = new Redis(redisUrl);
    const cmClient = new Redis(redisUrl);
    const bentoClient = new Redis(redisUrl);
    const apps: INestApplicationContext[] = [];
    let bento: BentoCache<{ cache: ReturnType<typeof bentostore> }> | undefined;
    let cpuLines: string[] = [];

    const teardown = async (): Promise<void> => {
      try {
        log(
          `Burst loader calls over the whole run: ours ${burstLoads.ours}, cache-manager ${burstLoads.cacheManager}, ` +
            `bentocache ${burstLoads.bentocache}`,
        );
        cpuLines.forEach((line) => log(line));
        if (raw.status === 'ready') log(`Deleted ${await deleteBenchKeys(raw, prefix)} keys under ${prefix}`);
      } finally {
        await bento?.disconnect().catch(() => undefined);
        await Promise.allSettled([
          ...apps.map((app) => app.close()),
          raw.quit(),
          cmClient.status === 'end' ? undefined : cmClient.quit(),
          bentoClient.status === 'end' ? undefined : bentoClient.quit(),
        ]);
      }
    };

    try {
      await raw.ping();
      cpuLines = await probeHitCpu(log);
      cpuLines.forEach((line) => log(line));
      const oursRedis = await bootOurs(redisUrl, `${prefix}ours:`, false);
      apps.push(oursRedis);
      const oursL1 = await bootOurs(redisUrl, `${prefix}ours-l1:`, true);
      apps.push(oursL1);
      const oursTracked = await bootOurs(redisUrl, `${prefix}ours-l1t:`, true, true);
      apps.push(oursTracked);
      const readerRedis = oursRedis.get(VenueReader);
      const readerL1 = oursL1.get(VenueReader);
      const readerTracked = oursTracked.get(VenueReader);
      const oursService = oursRedis.get(CacheService);

      const cacheManager = createCache({
        stores: [new Keyv({ store: new KeyvAdapter(legacyStore(redisInsStore(cmClient))), namespace: `${prefix}cm` })],
        ttl: TTL_MS,
      });
      bento = new BentoCache({
        default: 'cache',
        stores: { cache: bentostore().useL2Layer(redisDriver({ connection: bentoClient, prefix: `${prefix}bento` })) },
      });
      const bentoCache = bento;

      // Seed: the anchor's raw JSON, and every library's own entries through its own API.
      const seed = raw.pipeline();
      for (let i = 0; i < KEY_COUNT; i++) seed.set(`${prefix}raw:${i}`, JSON.stringify(venue(i)), 'PX', TTL_MS);
      await seed.exec();
      for (let i = 0; i < KEY_COUNT; i++) {
        await Promise.all([
          readerRedis.venue(i),
          readerL1.venue(i),
          readerTracked.venue(i),
          oursService.wrap(`wrap:${i}`, () => venue(i), { ttl: TTL_MS }),
          cacheManager.wrap(`venue:${i}`, async () => venue(i), TTL_MS),
          bentoCache.getOrSet({ key: `venue:${i}`, factory: () => venue(i), ttl: TTL_MS }),
        ]);
      }
      log(`Seeded ${KEY_COUNT} keys per contender under ${prefix}`);

      const cm = { n: 0 };
      const bc = { n: 0 };
      const ob = { n: 0 };
      const burstOurs = burstOf((key) => readerRedis.burst(key), 'ours', ob);
      const burstCm = burstOf(
        (key) =>
          cacheManager.wrap(
            `${prefix}${key}`,
            async () => {
              burstLoads.cacheManager++;
              await sleep(BURST_LOADER_MS);
              return 'loaded';
            },
            TTL_MS,
          ),
        'cm',
        cm,
      );
      const burstBento = burstOf(
        (key) =>
          bentoCache.getOrSet({
            key,
            factory: async () => {
              burstLoads.bentocache++;
              await sleep(BURST_LOADER_MS);
              return 'loaded';
            },
            ttl: TTL_MS,
          }),
        'bento',
        bc,
      );

      // Loader calls per burst, measured before the timed rounds so they can be shown in the table.
      const perBurst = async (burst: () => Promise<unknown>, counter: () => number): Promise<string> => {
        const before = counter();
        for (let i = 0; i < 5; i++) await burst();
        return ((counter() - before) / 5).toFixed(1);
      };
      const loadsOurs = await perBurst(burstOurs, () => burstLoads.ours);
      const loadsCm = await perBurst(burstCm, () => burstLoads.cacheManager);
      const loadsBento = await perBurst(burstBento, () => burstLoads.bentocache);
      log(`Loader calls per 1,000-caller burst: ours ${loadsOurs}, cache-manager ${loadsCm}, bentocache ${loadsBento}`);

      const hit = (i: number) => i % KEY_COUNT;
      const cases: BenchCase[] = [
        {
          group: `(a) Redis hit · ${IN_FLIGHT} in flight`,
          name: 'ioredis getBuffer + JSON.parse',
          anchor: true,
          concurrency: IN_FLIGHT,
          run: async (i) => JSON.parse(((await raw.getBuffer(`${prefix}raw:${hit(i)}`)) as Buffer).toString()),
        },
        {
          group: `(a) Redis hit · ${IN_FLIGHT} in flight`,
          name: '@Cacheable (Redis)',
          ours: true,
          target: 2,
          concurrency: IN_FLIGHT,
          run: (i) => readerRedis.venue(hit(i)),
        },
        {
          group: '(b) L1 vs Redis hit · sequential',
          name: '@Cacheable (Redis)',
          anchor: true,
          run: (i) => readerRedis.venue(hit(i)),
        },
        {
          group: '(b) L1 vs Redis hit · sequential',
          name: '@Cacheable (L1)',
          run: (i) => readerL1.venue(hit(i)),
        },
        {
          group: `(b) L1 vs Redis hit · ${IN_FLIGHT} in flight`,
          name: '@Cacheable (Redis)',
          anchor: true,
          concurrency: IN_FLIGHT,
          run: (i) => readerRedis.venue(hit(i)),
        },
        {
          group: `(b) L1 vs Redis hit · ${IN_FLIGHT} in flight`,
          name: '@Cacheable (L1)',
          concurrency: IN_FLIGHT,
          run: (i) => readerL1.venue(hit(i)),
        },
        {
          group: `(b) L1 vs Redis hit · ${IN_FLIGHT} in flight`,
          name: '@Cacheable (L1, l1.tracking)',
          concurrency: IN_FLIGHT,
          run: (i) => readerTracked.venue(hit(i)),
        },
        {
          group: `(c) get-or-load, warm · ${IN_FLIGHT} in flight`,
          name: 'cache-manager 7 wrap (Keyv/ioredis)',
          anchor: true,
          concurrency: IN_FLIGHT,
          run: (i) => cacheManager.wrap(`venue:${hit(i)}`, async () => venue(hit(i)), TTL_MS),
        },
        {
          group: `(c) get-or-load, warm · ${IN_FLIGHT} in flight`,
          name: 'bentocache getOrSet (Redis L2)',
          concurrency: IN_FLIGHT,
          run: (i) => bentoCache.getOrSet({ key: `venue:${hit(i)}`, factory: () => venue(hit(i)), ttl: TTL_MS }),
        },
        {
          group: `(c) get-or-load, warm · ${IN_FLIGHT} in flight`,
          name: 'ours CacheService.wrap',
          ours: true,
          target: 2,
          concurrency: IN_FLIGHT,
          run: (i) => oursService.wrap(`wrap:${hit(i)}`, () => venue(hit(i)), { ttl: TTL_MS }),
        },
        {
          group: `(c) get-or-load, warm · ${IN_FLIGHT} in flight`,
          name: 'ours @Cacheable',
          ours: true,
          target: 2,
          concurrency: IN_FLIGHT,
          run: (i) => readerRedis.venue(hit(i)),
        },
        {
          group: `(d) cold burst of ${BURST_CALLERS} callers`,
          name: `cache-manager 7 wrap (${loadsCm} loads/burst)`,
          anchor: true,
          run: burstCm,
        },
        {
          group: `(d) cold burst of ${BURST_CALLERS} callers`,
          name: `bentocache getOrSet (${loadsBento} loads/burst)`,
          run: burstBento,
        },
        {
          group: `(d) cold burst of ${BURST_CALLERS} callers`,
          name: `ours @Cacheable (${loadsOurs} loads/burst)`,
          ours: true,
          run: burstOurs,
        },
      ];
      return { cases, teardown };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
