/**
 * A same-run comparison of two versions of the library (how issue 13's "no worse" was checked): a few cache and lock
 * cases using only APIs every version since 0.1.0 has. Copy this file into the other version's tree (e.g. a git
 * worktree of the older commit sharing this `node_modules`) and run it from each tree in turn, alternating, so that
 * `@app/redis` is that tree's source:
 *
 *   AB_MS=2000 node --import ./src/runtime/register.mjs bench/ab-library-versions.ts <label>
 *
 * One JSON line per case: ops/s and this process's CPU time per operation (`process.cpuUsage`). Not part of
 * `npm run bench` (its suites compare us with other libraries, not with ourselves).
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, CacheService, LockService, RedisModule } from '@app/redis';

const label = process.argv[2] ?? '?';
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `ab:${label}:${process.pid}:`;

@Injectable()
class Venues {
  @Cacheable({ key: (id: number) => `venue:${id}`, ttl: 600_000 })
  async venue(id: number) {
    return { id, name: `Venue ${id}`, city: 'Oslo', capacity: 120 + (id % 50), tags: ['music', 'bar'], open: true };
  }
}

function moduleWith(l1: boolean) {
  @Module({
    imports: [
      RedisModule.forRoot({
        url,
        keyPrefix: `${prefix}${l1 ? 'l1' : 'r'}:`,
        cache: { ttl: 600_000, ...(l1 && { l1: { maxEntries: 10_000 } }) },
      }),
    ],
    providers: [Venues],
  })
  class AbModule {}
  return AbModule;
}

async function measure(name: string, inFlight: number, ms: number, op: (i: number) => Promise<unknown>) {
  // Warm-up, then the measured window.
  const warmEnd = Date.now() + 300;
  let i = 0;
  while (Date.now() < warmEnd) await op(i++);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        await op(i++);
        done++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUsPerOp = (cpu.user + cpu.system) / done;
  const opsPerSec = (done / elapsed) * 1000;
  process.stdout.write(
    `${JSON.stringify({ label, case: name, inFlight, opsPerSec: Math.round(opsPerSec), cpuUsPerOp: +cpuUsPerOp.toFixed(2) })}\n`,
  );
}

const MS = Number(process.env.AB_MS ?? 2_000);
for (const l1 of [false, true]) {
  const app = await NestFactory.createApplicationContext(moduleWith(l1), { logger: ['error'] });
  const cache = app.get(CacheService);
  const venues = app.get(Venues);
  for (let id = 0; id < 100; id++) await venues.venue(id);
  const loader = async () => ({ ok: true });
  for (let id = 0; id < 100; id++) await cache.wrap(`w:${id}`, loader, { ttl: 600_000 });
  const tier = l1 ? 'L1 hit' : 'Redis hit';
  for (const inFlight of [1, 50]) {
    await measure(`@Cacheable ${tier}`, inFlight, MS, (i) => venues.venue(i % 100));
    await measure(`CacheService.wrap ${tier}`, inFlight, MS, (i) => cache.wrap(`w:${i % 100}`, loader));
  }
  if (!l1) {
    const locks = app.get(LockService);
    await measure('lock acquire+release, uncontended', 1, MS, async (i) => {
      const lock = await locks.acquire(`r:${i % 16}`);
      await lock.release();
    });
  }
  await app.close();
}
process.exit(0);
