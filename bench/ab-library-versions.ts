/**
 * A same-run comparison of two versions of the library (how issue 13's "no worse" was checked): a few cache and lock
 * cases using only APIs every version since 0.1.0 has. Two ways to run it.
 *
 * One process per version: copy this file into the other version's tree (e.g. a git worktree of the older commit
 * sharing this `node_modules`) and run it from each tree in turn, alternating, so that `@app/redis` is that tree's
 * source:
 *
 *   AB_MS=2000 node --import ./src/runtime/register.mjs bench/ab-library-versions.ts <label>
 *
 * Interleaved in one process (`--interleave`): each tree's library source is imported by path and the versions take
 * turns in short windows (`AB_WINDOW_MS`, 100 ms) for `AB_ROUNDS` rounds (40): each round goes through the cases, and
 * runs each case on every version back to back, the first version rotating from round to round. Load from other
 * processes then falls on every version alike, so per-call differences of a few percent show, where separate
 * processes on a shared machine vary by tens of percent from run to run (a Redis hit one call at a time is mostly
 * system time, a socket write and read). The versions share the process' JIT state for ioredis and Nest, which the
 * one-process-per-version runs do not:
 *
 *   node --import ./src/runtime/register.mjs bench/ab-library-versions.ts --interleave old=/tmp/ab-old new=.
 *
 * One JSON line per case (per version when interleaved): ops/s and this process's CPU time per operation
 * (`process.cpuUsage`), also split into user and system time (Linux splits the precise total by 4 ms tick samples:
 * trust the split over seconds, not over one window). Interleaved, ops/s and CPU are medians over the rounds, the
 * split is over all rounds, and `vsFirst` is the median over the rounds of this version's CPU per operation divided by
 * the first version's in the same round (paired, so slow drifts in load cancel). `AB_CASES=<regex>` runs only the cases whose
 * `<case> @<in flight>` matches (e.g. `AB_CASES='Redis hit @1$'`). Not part of `npm run bench` (its suites compare us
 * with other libraries, not with ourselves).
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as current from '@app/redis';

type Library = typeof current;
type Op = (i: number) => Promise<unknown>;
interface Case {
  name: string;
  inFlight: number;
  op: Op;
}

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const only = process.env.AB_CASES ? new RegExp(process.env.AB_CASES) : undefined;
const selected = (name: string, inFlight: number) => !only || only.test(`${name} @${inFlight}`);

/** One application of `lib` (a Redis cache, or one with L1) and the cases measured on it, in the order they run. */
async function casesOf(
  lib: Library,
  prefix: string,
  l1: boolean,
): Promise<{ app: INestApplicationContext; cases: Case[] }> {
  const { Cacheable, CacheService, LockService, RedisModule } = lib;

  @Injectable()
  class Venues {
    @Cacheable({ key: (id: number) => `venue:${id}`, ttl: 600_000 })
    async venue(id: number) {
      return { id, name: `Venue ${id}`, city: 'Oslo', capacity: 120 + (id % 50), tags: ['music', 'bar'], open: true };
    }
  }

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

  const app = await NestFactory.createApplicationContext(AbModule, { logger: ['error'] });
  const cache = app.get(CacheService);
  const venues = app.get(Venues);
  for (let id = 0; id < 100; id++) await venues.venue(id);
  const loader = async () => ({ ok: true });
  for (let id = 0; id < 100; id++) await cache.wrap(`w:${id}`, loader, { ttl: 600_000 });
  const tier = l1 ? 'L1 hit' : 'Redis hit';
  const cases: Case[] = [];
  for (const inFlight of [1, 50]) {
    cases.push({ name: `@Cacheable ${tier}`, inFlight, op: (i) => venues.venue(i % 100) });
    cases.push({ name: `CacheService.wrap ${tier}`, inFlight, op: (i) => cache.wrap(`w:${i % 100}`, loader) });
  }
  if (!l1) {
    const locks = app.get(LockService);
    cases.push({
      name: 'lock acquire+release, uncontended',
      inFlight: 1,
      op: async (i) => {
        const lock = await locks.acquire(`r:${i % 16}`);
        await lock.release();
      },
    });
  }
  return { app, cases: cases.filter((c) => selected(c.name, c.inFlight)) };
}

/** Runs `c` for `ms` (after `warmMs` unmeasured); what it cost. */
async function run(c: Case, ms: number, warmMs: number) {
  let i = 0;
  const warmEnd = Date.now() + warmMs;
  while (Date.now() < warmEnd) await c.op(i++);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: c.inFlight }, async () => {
      while (Date.now() < end) {
        await c.op(i++);
        done++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { done, elapsed, user: cpu.user, system: cpu.system };
}

function line(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

const perOp = (us: number, done: number) => +(us / done).toFixed(2);

/** One process, one version (this tree's `@app/redis`), each case once: the way issue 13's comparison was run. */
async function oneVersion(label: string): Promise<void> {
  const MS = Number(process.env.AB_MS ?? 2_000);
  const prefix = `ab:${label}:${process.pid}:`;
  for (const l1 of [false, true]) {
    const { app, cases } = await casesOf(current, prefix, l1);
    for (const c of cases) {
      const { done, elapsed, user, system } = await run(c, MS, 300);
      line({
        label,
        case: c.name,
        inFlight: c.inFlight,
        opsPerSec: Math.round((done / elapsed) * 1000),
        cpuUsPerOp: perOp(user + system, done),
        userUsPerOp: perOp(user, done),
        systemUsPerOp: perOp(system, done),
      });
    }
    await app.close();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const sum = <K extends string>(rows: Array<Record<K, number>>, key: K) =>
  rows.reduce((total, row) => total + row[key], 0);

/** Several versions in one process, in turns of `AB_WINDOW_MS` (see the header). `specs`: `label=treeDir`. */
async function interleaved(specs: string[]): Promise<void> {
  const rounds = Number(process.env.AB_ROUNDS ?? 40);
  const windowMs = Number(process.env.AB_WINDOW_MS ?? 100);
  const versions = specs.map((spec) => {
    const at = spec.indexOf('=');
    if (at < 1) throw new Error(`expected label=treeDir, got "${spec}"`);
    return { label: spec.slice(0, at), dir: resolve(spec.slice(at + 1)) };
  });
  const apps: INestApplicationContext[] = [];
  const slots: Array<
    Case & {
      label: string;
      windows: Array<{ done: number; elapsed: number; cpu: number; user: number; system: number }>;
    }
  > = [];
  for (const { label, dir } of versions) {
    const lib = (await import(pathToFileURL(`${dir}/libs/redis/src/index.ts`).href)) as Library;
    for (const l1 of [false, true]) {
      const { app, cases } = await casesOf(lib, `ab:${label}:${process.pid}:`, l1);
      apps.push(app);
      for (const c of cases) slots.push({ ...c, label, windows: [] });
    }
  }
  for (const slot of slots) await run(slot, 0, 300);
  // Case by case, the versions back to back, the first of them rotating from round to round: what a window inherits
  // from the one before it (garbage to collect, a cold cache) then falls on every version alike.
  const byCase = new Map<string, typeof slots>();
  for (const slot of slots) {
    const key = `${slot.name} @${slot.inFlight}`;
    byCase.set(key, [...(byCase.get(key) ?? []), slot]);
  }
  for (let round = 0; round < rounds; round++) {
    for (const group of byCase.values()) {
      for (let k = 0; k < group.length; k++) {
        const slot = group[(k + round) % group.length]!;
        const { done, elapsed, user, system } = await run(slot, windowMs, 0);
        slot.windows.push({ done, elapsed, cpu: (user + system) / done, user, system });
      }
    }
  }
  for (const slot of slots) {
    const first = slots.find(
      (s) => s.label === versions[0]!.label && s.name === slot.name && s.inFlight === slot.inFlight,
    )!;
    line({
      label: slot.label,
      case: slot.name,
      inFlight: slot.inFlight,
      opsPerSec: Math.round(median(slot.windows.map((w) => (w.done / w.elapsed) * 1000))),
      cpuUsPerOp: +median(slot.windows.map((w) => w.cpu)).toFixed(3),
      userUsPerOp: +(sum(slot.windows, 'user') / sum(slot.windows, 'done')).toFixed(3),
      systemUsPerOp: +(sum(slot.windows, 'system') / sum(slot.windows, 'done')).toFixed(3),
      vsFirst: +median(slot.windows.map((w, round) => w.cpu / first.windows[round]!.cpu)).toFixed(4),
      rounds,
    });
  }
  for (const app of apps) await app.close();
}

const args = process.argv.slice(2);
if (args[0] === '--interleave') await interleaved(args.slice(1));
else await oneVersion(args[0] ?? '?');
process.exit(0);
