import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import nestLabThrottlerStorage from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { RedisModule, getRedisConnectionToken } from '@app/redis';
import { RateLimitModule, RedisThrottlerStorage } from '@app/redis/rate-limit';
import { RedisServerProcess } from '../../test/harness/redis-server-process.js';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';
import { runOperations } from '../harness/run-workload.js';
import { evalStandIn, multiStandIn, type ThrottlerHit } from './ratelimit-standins.js';

/** Window of every hit: long enough that no window ends during a round. */
const TTL_MS = 60_000;
/** High enough that every hit is counted (the common path: a client under its limit). */
const LIMIT = 1_000_000_000;
const KEY_SPACES: Array<[string, number]> = [
  ['one key', 1],
  ['1,000 keys', 1_000],
];
const CONCURRENCIES = [1, 50];
/**
 * The single-round-trip floor, measured in the same run: what one request/reply costs on one connection with nothing
 * else in flight, whatever the storage. Each reference case is alone in its group (its own anchor, marked neither
 * `ours` nor a rival), so it never becomes the best rival of our storage and adds no headline.
 */
const FLOOR_GROUP = 'floor (reference) · 1 in flight';
/** Issue 15: our storage's ops/s (or CPU per hit) against the best rival's, with one round trip per hit. */
const TARGET = 1.5;
/** Hits per contender in the probe that counts round trips, commands and CPU time. */
const PROBE_HITS = 5_000;

/** One storage under test, with the connection it sends its commands on. */
interface Contender {
  name: string;
  anchor: boolean;
  /** This library's storage (the headline compares it with the best stand-in). */
  ours?: boolean;
  hit: ThrottlerHit;
  client: Redis;
}
type ContenderFactory = (url: string, prefix: string) => Promise<Contender>;

/** Counts the socket writes of `client` until the returned function is called (which stops counting). */
function countWrites(client: Redis): { count(): number; stop(): void } {
  const stream = (client as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
  const original = stream.write;
  let writes = 0;
  stream.write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return original.apply(this, args);
  };
  return { count: () => writes, stop: () => void (stream.write = original) };
}

/**
 * What one contender costs per hit, measured on a throwaway redis-server nobody else uses: socket writes (round
 * trips the caller waits for, counted sequentially), top-level commands (INFO commandstats), and CPU time of this
 * process and of redis-server (50 in flight).
 */
async function probe(contender: Contender, server: Redis): Promise<string> {
  const stats = async () => {
    const info = await server.info('commandstats');
    const cpu = await server.info('cpu');
    const calls = [...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
      .filter(([, name]) => name !== 'info')
      .reduce((sum, [, , n]) => sum + Number(n), 0);
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
    return { calls, serverCpu: seconds('used_cpu_user') + seconds('used_cpu_sys') };
  };
  await contender.hit('warm');
  const before = await stats();
  const writes = countWrites(contender.client);
  for (let i = 0; i < 200; i++) await contender.hit(`probe:${i % 10}`);
  writes.stop();
  const roundTrips = writes.count() / 200;
  const afterSequential = await stats();
  const commands = (afterSequential.calls - before.calls) / 200;

  const cpuBefore = process.cpuUsage();
  await runOperations(PROBE_HITS, 50, (i) => contender.hit(`cpu:${i % 1_000}`));
  const cpu = process.cpuUsage(cpuBefore);
  const after = await stats();
  const clientUs = (cpu.user + cpu.system) / PROBE_HITS;
  const serverUs = ((after.serverCpu - afterSequential.serverCpu) * 1e6) / PROBE_HITS;
  return (
    `${contender.name}: ${roundTrips.toFixed(2)} round trips and ${commands.toFixed(2)} commands per hit; CPU per ` +
    `hit (50 in flight, ${PROBE_HITS} hits): ${clientUs.toFixed(1)} µs in Node, ${serverUs.toFixed(1)} µs in redis-server`
  );
}

/**
 * `RedisThrottlerStorage` (ours: one EVALSHA per hit) vs `@nest-lab/throttler-storage-redis` (the anchor: the Redis
 * storage for @nestjs/throttler that installs here) and two stand-ins: EVAL of the script source on every hit and
 * MULTI/EXEC. One key and 1,000 keys, 1 and 50 hits in flight. Round trips, commands and CPU time per hit are
 * measured on a throwaway redis-server and printed after the table. Two reference groups give the floor of one
 * round trip on this machine in the same run (raw GET, raw EVALSHA of a trivial script, sequential).
 */
export const rateLimitSuite: BenchSuite = {
  description:
    '@nestjs/throttler storages: RedisThrottlerStorage vs @nest-lab/throttler-storage-redis (anchor) and stand-ins (EVAL per hit; MULTI/EXEC); floor references (raw GET, raw EVALSHA)',

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('ratelimit');
    const apps: INestApplicationContext[] = [];
    const clients: Redis[] = [];
    const probes: string[] = [];
    let server: RedisServerProcess | undefined;
    const main = new Redis(redisUrl);
    clients.push(main);

    const teardown = async (): Promise<void> => {
      try {
        probes.forEach((line) => log(line));
        if (main.status === 'ready') log(`Deleted ${await deleteBenchKeys(main, prefix)} keys under ${prefix}`);
      } finally {
        await Promise.allSettled(apps.map((app) => app.close()));
        await Promise.allSettled(clients.map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
        await server?.stop();
      }
    };

    const rawClient = (url: string) => {
      const client = new Redis(url);
      clients.push(client);
      return client;
    };
    const factories: ContenderFactory[] = [
      async (url, keyPrefix) => {
        // The package itself (CommonJS; its peers stop at Nest 11, package.json overrides them to the installed 12).
        const client = rawClient(url);
        const storage = new nestLabThrottlerStorage.ThrottlerStorageRedisService(client);
        return {
          name: '@nest-lab/throttler-storage-redis 1.2.0',
          anchor: true,
          // Its keys carry no prefix of their own: the bench's prefix keeps them in the keyspace it deletes.
          hit: (key) => storage.increment(`${keyPrefix}nest-lab:${key}`, TTL_MS, LIMIT, TTL_MS, 'default'),
          client,
        };
      },
      async (url, keyPrefix) => {
        const client = rawClient(url);
        const hit = evalStandIn(client, `${keyPrefix}standin-eval:`, TTL_MS, LIMIT);
        return { name: 'EVAL per hit (stand-in)', anchor: false, hit, client };
      },
      async (url, keyPrefix) => {
        const client = rawClient(url);
        const hit = multiStandIn(client, `${keyPrefix}standin-multi:`, TTL_MS, LIMIT);
        return { name: 'MULTI/EXEC (stand-in)', anchor: false, hit, client };
      },
      async (url, keyPrefix) => {
        const app = await NestFactory.createApplicationContext(
          {
            module: class RateLimitBenchModule {},
            imports: [RedisModule.forRoot({ url, keyPrefix }), RateLimitModule.forRoot({ commandTimeout: 5_000 })],
          },
          { logger: false },
        );
        apps.push(app);
        const storage = app.get(RedisThrottlerStorage);
        return {
          name: 'RedisThrottlerStorage',
          anchor: false,
          ours: true,
          hit: (key) => storage.increment(key, TTL_MS, LIMIT, TTL_MS, 'default'),
          client: app.get<Redis>(getRedisConnectionToken()),
        };
      },
    ];

    try {
      server = await RedisServerProcess.start();
      const observer = rawClient(server.url);
      for (const factory of factories) probes.push(await probe(await factory(server.url, prefix), observer));
      probes.forEach((line) => log(line));

      const contenders = await Promise.all(factories.map((factory) => factory(redisUrl, prefix)));
      const floor = rawClient(redisUrl);
      const trivialScript = (await floor.script('LOAD', 'return 1')) as string;
      const cases: BenchCase[] = [];
      for (const [space, keys] of KEY_SPACES) {
        for (const concurrency of CONCURRENCIES) {
          const group = `${space} · ${concurrency} in flight`;
          for (const contender of contenders) {
            cases.push({
              name: contender.name,
              group,
              anchor: contender.anchor,
              ours: contender.ours,
              ...(contender.ours && { target: TARGET }),
              concurrency,
              run: (iteration) => contender.hit(keys === 1 ? 'hot' : `client:${iteration % keys}`),
            });
          }
        }
      }
      cases.push(
        {
          name: 'raw ioredis GET (reference)',
          group: `${FLOOR_GROUP} · GET`,
          anchor: true,
          run: (iteration) => floor.get(`${prefix}floor:${iteration % 1_000}`),
        },
        {
          name: 'raw ioredis EVALSHA of `return 1` (reference)',
          group: `${FLOOR_GROUP} · EVALSHA`,
          anchor: true,
          run: (iteration) => floor.evalsha(trivialScript, 1, `${prefix}floor:${iteration % 1_000}`),
        },
      );
      return { cases, teardown };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
