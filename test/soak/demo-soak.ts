import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { DEMO_VENUE_ID, SECOND_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { AppProcess } from '../../src/demo/app-process.js';
import { serveEmbeddedDatabase } from '../../src/demo/embedded-database.js';
import { http } from '../../src/demo/http.js';
import { sql } from '../../src/demo/sql-client.js';
import { freePort } from '../harness/free-port.js';
import { RedisSentinelGroup } from '../harness/redis-sentinel-group.js';
import { invariantsHold, readInvariants, type DemoInvariants } from './demo-soak-invariants.js';
import { DemoLoad, LOAD_KINDS, LoadTally } from './demo-soak-load.js';
import { describeFault, forceFailover, restartMaster } from './sentinel-faults.js';

/** What the demo soak runs. */
export interface DemoSoakOptions {
  minutes: number;
  /** Every this many minutes (0: never), half-way through the minute, a fault: master restart and forced failover in turn. */
  restartEvery: number;
  /** Where the table and the summary go, one line per call. */
  write: (line: string) => void;
}

const TS_ENTRY = ['--import', './src/runtime/register.mjs', '--import', './test/soak/process-probe.mjs'];
const API_ENTRY = [...TS_ENTRY, 'apps/booking-api/src/main.ts'];
const WORKER_ENTRY = [...TS_ENTRY, 'apps/booking-worker/src/main.ts'];
/** Holds expire fast, so the workers' release job has work all along. */
const HOLD_TTL_MS = 10_000;
/** An event younger than this is still on its way (emit, stream, handler); a hold this late is not yet stuck. */
const GRACE_MS = 30_000;

interface ProbeReading {
  rssBytes: number;
  heapUsedBytes: number;
  lagP99Ms: number;
}

/**
 * `npm run soak` (`--target demo`): the booking demo under steady mixed load (`DemoLoad`) on a throwaway Redis
 * Sentinel group (one master, one replica, three sentinels), with a fault every `restartEvery` minutes: the master
 * restarted (SIGTERM, promoted replica, old master back as replica) and `SENTINEL FAILOVER`, in turn. The apps are
 * 2 booking-api + 2 booking-worker processes from their TypeScript sources, configured with `REDIS_SENTINELS`;
 * the database is PostgreSQL from `DATABASE_URL` in a schema of its own (dropped at the end), else an embedded
 * PGlite. Each row is one minute: per process RSS, heap used and event-loop delay p99 (read by the preloaded
 * `process-probe.mjs`), requests ok/refused/errors per kind, and the invariants (`demo-soak-invariants.ts`).
 *
 * @returns the exit code: 0 when every invariant held at the end and every app was healthy and stopped cleanly
 */
export async function runDemoSoak({ minutes, restartEvery, write }: DemoSoakOptions): Promise<number> {
  const runId = randomBytes(3).toString('hex');
  const keyPrefix = `soak:${runId}:`;
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sleepUntil = (at: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        interrupted.signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, at - Date.now()));
      interrupted.signal.addEventListener('abort', wake, { once: true });
    });

  const group = await RedisSentinelGroup.start({ name: `soak-${runId}` });
  const cleanups: (() => Promise<unknown>)[] = [() => group.stop()];
  const failures: string[] = [];
  const apps: AppProcess[] = [];
  try {
    const database = await provideDatabase(runId);
    cleanups.unshift(database.stop);
    write(
      `Demo soak: ${minutes} min, a Redis fault every ${restartEvery || '∞'} min; Sentinel group "${group.name}" ` +
        `(master :${group.master.port}, replica :${group.replica.port}, sentinels ${group.addresses.join(', ')}); ` +
        `${database.description}; key prefix ${keyPrefix}; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );

    const shared = {
      REDIS_SENTINELS: group.addresses.join(','),
      REDIS_SENTINEL_NAME: group.name,
      REDIS_URL: '',
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: database.schema ?? '',
      DATABASE_SINGLE_SESSION: String(database.singleSession),
      SEED_DEMO_DATA: 'true',
      BOOKING_LOCK_WAIT_MS: '5000',
      HOLD_TTL_MS: String(HOLD_TTL_MS),
      PAYMENT_DELAY_MS: '100',
      // Every customer is its own client: the limits are not what this run measures.
      RATE_LIMIT_LIMIT: '1000000',
      // An event the master acknowledged but a failover lost would be missing in the worker's counts: require the
      // replica's copy before the outbox row is marked published.
      BOOKING_EVENTS_REPLICAS: '1',
    };
    const probes: number[] = [];
    for (const n of [1, 2]) {
      const [port, management, probe] = [await freePort(), await freePort(), await freePort()];
      probes.push(probe);
      apps.push(
        new AppProcess(`api#${n}`, API_ENTRY, port, management, {
          ...shared,
          DATABASE_POOL_SIZE: '4',
          PORT: String(port),
          MANAGEMENT_PORT: String(management),
          SOAK_PROBE_PORT: String(probe),
        }),
      );
    }
    for (const n of [1, 2]) {
      const [port, management, probe] = [await freePort(), await freePort(), await freePort()];
      probes.push(probe);
      apps.push(
        new AppProcess(`worker#${n}`, WORKER_ENTRY, port, management, {
          ...shared,
          DATABASE_POOL_SIZE: '2',
          WORKER_ID: `soak-worker-${n}`,
          WORKER_PORT: String(port),
          WORKER_MANAGEMENT_PORT: String(management),
          SOAK_PROBE_PORT: String(probe),
        }),
      );
    }
    const apis = apps.slice(0, 2);
    const healthPath = (app: AppProcess) => (apis.includes(app) ? '/health/ready' : '/health');
    cleanups.unshift(async () => {
      const codes = await Promise.all(apps.map((app) => app.stop()));
      if (!codes.every((code) => code === 'SIGTERM' || code === 0)) {
        failures.push(`an app did not stop cleanly on SIGTERM (${codes.join(', ')})`);
      }
    });
    // One at a time: the first API applies the migrations and seeds, and four SWC compilations at once on a loaded
    // machine would only slow each other down.
    for (const app of apps) {
      app.start();
      const ready = await app.waitHealthy(healthPath(app), 180_000);
      if (ready.status !== 200) throw new Error(`${app.name} did not become ready: ${JSON.stringify(ready.body)}`);
    }

    const date = new Date().toISOString().slice(0, 10);
    const slotIds: string[] = [];
    for (const venue of [DEMO_VENUE_ID, SECOND_VENUE_ID]) {
      const view = await http<{ slots: { slotId: string }[] }>(
        'GET',
        `${apis[0]!.baseUrl}/venues/${venue}/availability?date=${date}`,
      );
      if (view.status !== 200) throw new Error(`availability of ${venue} → ${view.status}`);
      slotIds.push(...view.body.slots.map((slot) => slot.slotId));
    }
    const redis = new Redis({
      sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: group.name,
      maxRetriesPerRequest: 2,
    });
    redis.on('error', () => undefined);
    cleanups.unshift(async () => redis.disconnect());
    const sources = { database, redis, keyPrefix };

    const columns = [
      'min',
      `RSS MB ${apps.map((a) => a.name).join('/')}`,
      'heap MB',
      'lag p99 ms',
      ...LOAD_KINDS.map((kind) => `${kind} ok/ref/err`),
      `p99 ms ${LOAD_KINDS.join('/')}`,
      'oversold',
      'released twice',
      'stuck holds',
      'events unhandled',
      'bookings/cancelled/holds/released',
      'Redis fault',
    ];
    const print = (cells: (string | number)[]) => write(`| ${cells.join(' | ')} |`);
    print(columns);
    print(columns.map(() => '---'));

    const load = new DemoLoad({
      apiUrls: apis.map((a) => a.baseUrl),
      venues: [DEMO_VENUE_ID, SECOND_VENUE_ID],
      date,
      slotIds,
    });
    const total = new LoadTally();
    const readings: ProbeReading[][] = [];
    let faults = 0;
    load.start();
    const startedAt = Date.now();
    for (let m = 1; m <= minutes && !interrupted.signal.aborted; m++) {
      let fault = '';
      if (restartEvery > 0 && m % restartEvery === 0) {
        await sleepUntil(startedAt + (m - 0.5) * 60_000);
        if (interrupted.signal.aborted) break;
        try {
          fault = describeFault(faults++ % 2 === 0 ? await restartMaster(group) : await forceFailover(group));
        } catch (error) {
          fault = `fault failed: ${error instanceof Error ? error.message : String(error)}`;
          failures.push(fault);
        }
      }
      await sleepUntil(startedAt + m * 60_000);
      const tally = load.takeMinute();
      tally.addTo(total);
      const probed = await Promise.all(probes.map((port) => readProbe(port)));
      readings.push(probed);
      const invariants = await readInvariants(sources, GRACE_MS);
      print([
        m,
        probed.map((p) => mb(p.rssBytes)).join('/'),
        probed.map((p) => mb(p.heapUsedBytes)).join('/'),
        probed.map((p) => p.lagP99Ms.toFixed(0)).join('/'),
        ...LOAD_KINDS.map((kind) => tally.cell(kind)),
        LOAD_KINDS.map((kind) => tally.p99(kind).toFixed(0)).join('/'),
        invariants.oversold,
        invariants.releasedTwice + invariants.bookedTwice,
        invariants.stuckHolds,
        invariants.unhandledEvents ?? '? (Redis unreadable)',
        `${invariants.bookings}/${invariants.cancelled}/${invariants.holds}/${invariants.released}`,
        fault,
      ]);
    }
    await load.stop();
    const tally = load.takeMinute();
    tally.addTo(total);

    // The load stopped: give the last events and expiring holds time to land, then count every one.
    let final: DemoInvariants = await readInvariants(sources, 0);
    const settleBy = Date.now() + HOLD_TTL_MS + GRACE_MS;
    while (!invariantsHold(final) && Date.now() < settleBy && !interrupted.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      final = await readInvariants(sources, 0);
    }
    const healthy = await Promise.all(apps.map(async (app) => (await app.waitHealthy(healthPath(app), 30_000)).status));
    const unhealthy = apps.filter((_, i) => healthy[i] !== 200).map((app) => app.name);
    if (unhealthy.length > 0) failures.push(`not healthy at the end: ${unhealthy.join(', ')}`);
    if (!invariantsHold(final)) failures.push('an invariant failed');
    if (interrupted.signal.aborted) failures.push('interrupted');

    write('');
    write(
      `Requests (ok/refused/errors, p99 ms): ${LOAD_KINDS.map((kind) => `${kind} ${total.cell(kind)} ${total.p99(kind).toFixed(0)} ms`).join(', ')}; errors: ` +
        ([...total.errors].map(([label, count]) => `${count}× ${label}`).join(', ') || 'none') +
        `; refusals: ${[...total.refusals].map(([label, count]) => `${count}× ${label}`).join(', ') || 'none'}`,
    );
    write(`Memory, first → last minute: ${apps.map((app, i) => memoryTrend(app.name, readings, i)).join('; ')}`);
    write(
      `Demo soak of ${readings.length} min, ${faults} Redis fault(s): ${final.bookings} bookings (${final.cancelled} ` +
        `cancelled), ${final.holds} holds (${final.released} released by the workers); oversold ${final.oversold}, ` +
        `holds released twice ${final.releasedTwice}, holds booked twice ${final.bookedTwice}, stuck holds ` +
        `${final.stuckHolds}, events unhandled ${final.unhandledEvents ?? '? (Redis unreadable)'}; apps healthy at the ` +
        `end ${apps.length - unhealthy.length}/${apps.length}; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    for (const cleanup of cleanups)
      await cleanup().catch((error: unknown) => failures.push(`cleanup: ${String(error)}`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const failure of failures) write(`✘ ${failure}`);
  if (failures.length > 0) {
    for (const app of apps) write(`--- last lines of ${app.name} ---\n${app.output.slice(-15).join('\n')}`);
  }
  write(failures.length === 0 ? 'All invariants hold.' : `${failures.length} failure(s).`);
  return failures.length === 0 ? 0 : 1;
}

/** The database the apps share: PostgreSQL from `DATABASE_URL` (a schema of its own), else an embedded PGlite. */
async function provideDatabase(runId: string) {
  const configured = process.env.DATABASE_URL?.trim();
  if (configured) {
    const schema = `soak_${runId}`;
    return {
      url: configured,
      schema,
      singleSession: false,
      description: `PostgreSQL from DATABASE_URL, schema ${schema} (dropped at the end)`,
      stop: () => sql(configured, `DROP SCHEMA IF EXISTS ${schema} CASCADE`),
    };
  }
  const embedded = await serveEmbeddedDatabase();
  return {
    url: embedded.url,
    schema: undefined,
    singleSession: true,
    description: 'embedded PGlite (set DATABASE_URL for PostgreSQL)',
    stop: () => embedded.stop(),
  };
}

async function readProbe(port: number): Promise<ProbeReading> {
  const result = await http<ProbeReading>('GET', `http://127.0.0.1:${port}/`, { timeoutMs: 10_000 });
  return result.status === 200 ? result.body : { rssBytes: NaN, heapUsedBytes: NaN, lagP99Ms: NaN };
}

function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(0);
}

function memoryTrend(name: string, readings: ProbeReading[][], i: number): string {
  const first = readings[0]?.[i];
  const last = readings.at(-1)?.[i];
  if (!first || !last) return `${name} –`;
  const heaps = readings.map((r) => r[i]!.heapUsedBytes);
  return (
    `${name} RSS ${mb(first.rssBytes)} → ${mb(last.rssBytes)} MB, heap ${mb(first.heapUsedBytes)} → ` +
    `${mb(last.heapUsedBytes)} MB (range ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))})`
  );
}
