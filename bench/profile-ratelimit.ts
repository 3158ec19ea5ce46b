/**
 * Cost per throttler hit against a throwaway redis-server nobody else uses, for `--cpu-prof` and for the server side:
 * ops/s, this process' CPU per hit (`process.cpuUsage`), redis-server's CPU per hit (`INFO cpu`), and per command
 * the calls per hit and `usec_per_call` (`INFO commandstats`, reset before each measured run). Several subjects are
 * run in turn, `--repeat` times, alternating their order; the median and the cheapest run are printed.
 *
 * Subjects: `ours` (RedisThrottlerStorage), `anchor` (@nest-lab/throttler-storage-redis 1.2.0), the single-round-trip
 * floor `get` (raw ioredis GET) and `evalsha` (raw EVALSHA of `return 1`, one key), and, to attribute our cost by
 * layer, `ours-runner` (the storage's script runner called directly) and `ours-script-raw` (ioredis' own `evalsha`
 * of the same script and keys: no runner, no write coalescing). Each subject has its own connection.
 *
 *   node --import ./src/runtime/register.mjs bench/profile-ratelimit.ts ours anchor get evalsha \
 *     [--in-flight 50] [--hits 100000] [--keys 1000] [--repeat 5]
 *   node --cpu-prof --cpu-prof-dir=/tmp/rl-prof --import ./src/runtime/register.mjs bench/profile-ratelimit.ts ours
 */
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import nestLabThrottlerStorage from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { RedisModule } from '@app/redis';
import { RateLimitModule, RedisThrottlerStorage } from '@app/redis/rate-limit';
import { RATE_LIMIT_SCRIPT_RUNNER } from '../libs/redis/src/rate-limit/rate-limit.constants.js';
import type { RateLimitScriptRunner } from '../libs/redis/src/rate-limit/rate-limit-script.runner.js';
import { THROTTLER_HIT } from '../libs/redis/src/rate-limit/scripts/rate-limit.scripts.js';
import { RedisServerProcess } from '../test/harness/redis-server-process.js';
import { runOperations } from './harness/run-workload.js';

const TTL_MS = 60_000;
const LIMIT = 1_000_000_000;
const SUBJECTS = ['ours', 'ours-runner', 'ours-script-raw', 'anchor', 'get', 'evalsha'] as const;
type Subject = (typeof SUBJECTS)[number];
type Hit = (key: string) => Promise<unknown>;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'in-flight': { type: 'string', default: '50' },
    hits: { type: 'string', default: '100000' },
    keys: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '1' },
  },
});
const subjects = positionals as Subject[];
const inFlight = Number(values['in-flight']);
const hits = Number(values.hits);
const keys = Number(values.keys);
const repeat = Number(values.repeat);
if (
  subjects.length === 0 ||
  !subjects.every((s) => SUBJECTS.includes(s)) ||
  ![inFlight, hits, keys, repeat].every((n) => Number.isInteger(n) && n >= 1)
) {
  process.stderr.write(
    `Usage: bench/profile-ratelimit.ts <${SUBJECTS.join('|')}>... [--in-flight n] [--hits n] [--keys n] [--repeat n]\n`,
  );
  process.exit(2);
}

const server = await RedisServerProcess.start();
const observer = new Redis(server.url);
const closers: Array<() => Promise<unknown>> = [() => observer.quit()];

async function contender(subject: Subject): Promise<Hit> {
  if (subject === 'ours' || subject === 'ours-runner') {
    const app = await NestFactory.createApplicationContext(
      {
        module: class ProfileModule {},
        imports: [
          RedisModule.forRoot({ url: server.url, keyPrefix: 'p:' }),
          RateLimitModule.forRoot({ commandTimeout: 5_000 }),
        ],
      },
      { logger: false },
    );
    closers.push(() => app.close());
    const storage = app.get(RedisThrottlerStorage);
    if (subject === 'ours') return (key) => storage.increment(key, TTL_MS, LIMIT, TTL_MS, 'default');
    const runner = app.get<RateLimitScriptRunner>(RATE_LIMIT_SCRIPT_RUNNER);
    return (key) => {
      const counter = storage.redisKey(key, 'default');
      return runner.run(THROTTLER_HIT, [counter, `${counter}:block`], [TTL_MS, LIMIT, TTL_MS], 5_000);
    };
  }
  const client = new Redis(server.url);
  closers.push(() => client.quit());
  if (subject === 'anchor') {
    const storage = new nestLabThrottlerStorage.ThrottlerStorageRedisService(client);
    return (key) => storage.increment(`p:${key}`, TTL_MS, LIMIT, TTL_MS, 'default');
  }
  if (subject === 'get') return (key) => client.get(`p:${key}`);
  if (subject === 'ours-script-raw') {
    const sha = (await client.script('LOAD', THROTTLER_HIT.source)) as string;
    return (key) =>
      client.evalsha(
        sha,
        2,
        `p:throttler:{${key}}:default`,
        `p:throttler:{${key}}:default:block`,
        TTL_MS,
        LIMIT,
        TTL_MS,
      );
  }
  const sha = (await client.script('LOAD', 'return 1')) as string;
  return (key) => client.evalsha(sha, 1, `p:${key}`);
}

async function drive(hit: Hit, count: number): Promise<number> {
  const start = performance.now();
  await runOperations(count, inFlight, (i) => hit(keys === 1 ? 'hot' : `client:${i % keys}`));
  return performance.now() - start;
}

async function serverCpuSeconds(): Promise<number> {
  const cpu = await observer.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return seconds('used_cpu_user') + seconds('used_cpu_sys');
}

interface Run {
  opsPerSec: number;
  nodeUs: number;
  nodeUserUs: number;
  serverUs: number;
  commands: string;
}

async function measure(hit: Hit): Promise<Run> {
  await observer.config('RESETSTAT');
  const cpuBefore = process.cpuUsage();
  const serverBefore = await serverCpuSeconds();
  const ms = await drive(hit, hits);
  const cpu = process.cpuUsage(cpuBefore);
  const serverUs = ((await serverCpuSeconds()) - serverBefore) * 1e6;
  const stats = await observer.info('commandstats');
  const commands = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/gm)]
    .filter(([, name]) => !['info', 'config'].includes(name))
    .map(([, name, calls, perCall]) => `${name} ${(Number(calls) / hits).toFixed(2)}×${perCall}`)
    .join(' ');
  return {
    opsPerSec: (hits / ms) * 1_000,
    nodeUs: (cpu.user + cpu.system) / hits,
    nodeUserUs: cpu.user / hits,
    serverUs: serverUs / hits,
    commands,
  };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

try {
  const hitOf = new Map<Subject, Hit>();
  for (const subject of subjects) {
    const hit = await contender(subject);
    await drive(hit, Math.min(20_000, hits));
    hitOf.set(subject, hit);
  }
  const runs = new Map<Subject, Run[]>(subjects.map((s) => [s, []]));
  for (let r = 0; r < repeat; r++) {
    for (const subject of r % 2 === 0 ? subjects : [...subjects].reverse()) {
      runs.get(subject)?.push(await measure(hitOf.get(subject) as Hit));
    }
  }
  console.log(`${inFlight} in flight, ${keys} keys, ${hits} hits × ${repeat}; median (cheapest) per hit:`);
  for (const [subject, list] of runs) {
    const pick = (f: (r: Run) => number, digits = 2) =>
      `${median(list.map(f)).toFixed(digits)} (${Math.min(...list.map(f)).toFixed(digits)})`;
    const fastest = list.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
    console.log(
      `  ${subject.padEnd(16)} ops/s ${median(list.map((r) => r.opsPerSec)).toFixed(0)} (best ${fastest.opsPerSec.toFixed(0)}); ` +
        `Node ${pick((r) => r.nodeUs)} µs, user ${pick((r) => r.nodeUserUs)}; redis-server ${pick((r) => r.serverUs)} µs; ` +
        `Node+redis ${pick((r) => r.nodeUs + r.serverUs)} µs; commands×µs/call ${list[list.length - 1].commands}`,
    );
  }
} finally {
  for (const close of closers) await close();
  await server.stop();
}
