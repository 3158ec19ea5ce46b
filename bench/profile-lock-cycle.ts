/**
 * Uncontended acquire+release cycles of one lock library against throwaway redis-servers, for `--cpu-prof`:
 * prints ops/s and this process' CPU per cycle, nothing else running in the process.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/lock-prof --import ./src/runtime/register.mjs \
 *     bench/profile-lock-cycle.ts <ours|ours-redlock|redlock-anchor> [cycles]
 */
import { LockService, RedisModule } from '@app/redis';
import { NestFactory } from '@nestjs/core';
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { RedisServerProcess } from '../test/harness/redis-server-process.js';

const TTL_MS = 10_000;
const WARM_UP_CYCLES = 2_000;
type Cycle = () => Promise<unknown>;

const [subject = 'ours', cyclesArg = '20000'] = process.argv.slice(2);
const cycles = Number(cyclesArg);
if (!['ours', 'ours-redlock', 'redlock-anchor'].includes(subject) || !Number.isInteger(cycles) || cycles < 1) {
  console.error('Usage: bench/profile-lock-cycle.ts <ours|ours-redlock|redlock-anchor> [cycles]');
  process.exit(2);
}

const servers = await Promise.all(Array.from({ length: subject === 'ours' ? 1 : 3 }, () => RedisServerProcess.start()));
const closers: Array<() => Promise<unknown>> = [];
let cycle: Cycle;
if (subject === 'redlock-anchor') {
  const redlock = new Redlock(
    servers.map((s) => new Redis(s.url)),
    { retryCount: 0 },
  );
  closers.push(() => redlock.quit());
  cycle = async () => (await redlock.acquire(['profile:key'], TTL_MS)).release();
} else {
  const nodes = subject === 'ours-redlock' ? { nodes: servers.map((s) => s.url) } : {};
  const app = await NestFactory.createApplicationContext(
    RedisModule.forRoot({ url: servers[0].url, keyPrefix: 'profile:', lock: { ttl: TTL_MS, ...nodes } }),
    { logger: false },
  );
  closers.push(() => app.close());
  const locks = app.get(LockService);
  cycle = async () => (await locks.acquire('key', { waitTimeout: TTL_MS })).release();
}

try {
  for (let i = 0; i < WARM_UP_CYCLES; i++) await cycle();
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < cycles; i++) await cycle();
  const seconds = (performance.now() - start) / 1_000;
  const used = process.cpuUsage(cpu);
  console.log(
    `${subject}: ${Math.round(cycles / seconds)} cycles/s, ` +
      `${((used.user + used.system) / cycles).toFixed(1)} µs CPU of this process per cycle`,
  );
} finally {
  for (const close of closers) await close();
  await Promise.all(servers.map((s) => s.stop()));
}
