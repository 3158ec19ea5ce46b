import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { DEMO_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { ensureRedis } from '../dev-services/ensure-redis.js';
import { AppProcess } from './app-process.js';
import { runBookingScenario, type ScenarioReport } from './booking-scenario.js';
import { serveEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database.js';
import { ProgressLine } from './progress-line.js';
import { sql } from './sql-client.js';

/**
 * `npm run demo`: builds booking-api and booking-worker, makes sure Redis answers (starting a local one if none
 * does), provides the database (PostgreSQL from `DATABASE_URL` in a fresh schema, or an embedded PGlite served over
 * the wire), runs two API replicas and the worker as separate processes under a fresh key prefix, plays the booking
 * scenario (`booking-scenario.ts`), prints a summary and stops everything it started. Exits non-zero when an
 * invariant fails.
 */

/**
 * `npm run demo -- --from-source` skips the build and runs the TypeScript sources through the repository's loader
 * (SWC, no type check): quicker while developing.
 */
const FROM_SOURCE = process.argv.includes('--from-source');
const TS_LOADER = ['--import', './src/runtime/register.mjs'];
const API_ENTRY = FROM_SOURCE
  ? [...TS_LOADER, 'apps/booking-api/src/main.ts']
  : ['dist/apps/booking-api/apps/booking-api/src/main.js'];
const WORKER_ENTRY = FROM_SOURCE
  ? [...TS_LOADER, 'apps/booking-worker/src/main.ts']
  : ['dist/apps/booking-worker/apps/booking-worker/src/main.js'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The database the replicas share, and how to clean up after it. */
interface DemoDatabase {
  url: string;
  schema?: string;
  singleSession: boolean;
  description: string;
  stop(): Promise<void>;
}

async function provideDatabase(runId: string): Promise<DemoDatabase> {
  const configured = process.env.DATABASE_URL?.trim();
  if (configured) {
    const schema = `demo_${runId}`;
    return {
      url: configured,
      schema,
      singleSession: false,
      description: `PostgreSQL from DATABASE_URL, schema ${schema} (dropped at the end)`,
      stop: async () => {
        await sql(configured, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  }
  const embedded: EmbeddedDatabase = await serveEmbeddedDatabase();
  return {
    url: embedded.url,
    singleSession: true,
    description: `embedded PGlite (in memory) served over the PostgreSQL wire protocol on ${new URL(embedded.url).host}`,
    stop: () => embedded.stop(),
  };
}

function printSummary(report: ScenarioReport | undefined, health: string[]): void {
  say('\nSummary');
  if (report) {
    const attempts = Object.values(report.attempts).reduce((a, b) => a + b, 0);
    const perReplica = Object.values(report.confirmedPerReplica).join(' + ');
    say(`  booking burst    ${attempts} attempts in ${report.burstMs} ms; confirmed per replica: ${perReplica}`);
    say(
      `  availability     cache hit ratio ${(report.cacheHitRatio * 100).toFixed(1)}%, ${report.readsPerSecond} reads/s`,
    );
    if (report.worker) {
      say(
        `  worker           ${report.worker.eventsHandled} events handled, ${report.worker.notifications} notifications, ` +
          `${report.worker.duplicatesIgnored} duplicates ignored`,
      );
    }
    say();
    for (const check of report.checks) {
      say(`  ${check.outcome === 'ok' ? '✔' : '✘'} ${check.name} — ${check.detail}`);
    }
  }
  for (const line of health) say(line);
}

async function main(): Promise<number> {
  const failures: string[] = [];
  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', say);
  say(`Redis: ${redis.started ? 'started a local redis-server' : 'using the one already listening'}`);

  if (FROM_SOURCE) {
    say('Running booking-api and booking-worker from their TypeScript sources (--from-source).');
  } else {
    say('Building booking-api and booking-worker (nest build)…');
    const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
    if (build.status !== 0) return 1;
  }

  const runId = randomBytes(3).toString('hex');
  const keyPrefix = `demo:${runId}:`;
  const database = await provideDatabase(runId);
  say(`Database: ${database.description}`);

  const shared = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    DATABASE_URL: database.url,
    ...(database.schema ? { DATABASE_SCHEMA: database.schema } : {}),
    DATABASE_SINGLE_SESSION: String(database.singleSession),
    DATABASE_POOL_SIZE: '8',
    SEED_DEMO_DATA: 'true',
    // 200 bookings queue for one slot's lock: let every one get a definite answer even on a loaded machine.
    BOOKING_LOCK_WAIT_MS: '30000',
  };
  const [apiPortA, apiPortB, workerPort] = [await freePort(), await freePort(), await freePort()];
  const apis = [
    new AppProcess('booking-api #1', API_ENTRY, apiPortA, { ...shared, PORT: String(apiPortA) }),
    new AppProcess('booking-api #2', API_ENTRY, apiPortB, { ...shared, PORT: String(apiPortB) }),
  ];
  const worker = new AppProcess('booking-worker', WORKER_ENTRY, workerPort, {
    ...shared,
    WORKER_PORT: String(workerPort),
  });
  const apps = [...apis, worker];

  let report: ScenarioReport | undefined;
  const health: string[] = [];
  try {
    apps.forEach((app) => app.start());
    say(`Started ${apps.map((a) => `${a.name} on :${a.port}`).join(', ')} (key prefix ${keyPrefix})`);
    const ready = await Promise.all(apps.map((app) => app.waitHealthy(app === worker ? '/health' : '/health/ready')));
    ready.forEach((result, i) => {
      if (result.status !== 200) failures.push(`${apps[i]!.name} did not become ready: ${JSON.stringify(result.body)}`);
    });
    if (failures.length === 0) {
      say(`\nScenario: 200 customers want the 10 seats of one slot, through both replicas at once`);
      const progress = new ProgressLine();
      report = await runBookingScenario(
        {
          apiUrls: apis.map((api) => api.baseUrl),
          workerUrl: worker.baseUrl,
          venueId: DEMO_VENUE_ID,
          date: new Date().toISOString().slice(0, 10),
          database: { url: database.url, schema: database.schema },
        },
        { onProgress: (phase, done, total, tally) => progress.update(phase, done, total, tally) },
      );
      for (const app of apps) {
        const result = await app.waitHealthy(app === worker ? '/health' : '/health/ready', 5_000);
        const ok = result.status === 200;
        health.push(`  ${ok ? '✔' : '✘'} ${app.name.padEnd(15)} healthy at the end (GET /health → ${result.status})`);
        if (!ok) failures.push(`${app.name} is not healthy`);
      }
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    printSummary(report, health);
    const codes = await Promise.all(apps.map((app) => app.stop()));
    const clean = codes.every((code) => code === 'SIGTERM' || code === 0);
    say(`  ${clean ? '✔' : '✘'} stopped the three apps (ended by ${codes.join(', ')})`);
    if (!clean) failures.push('an app did not shut down cleanly on SIGTERM');
    await database.stop().catch((error: unknown) => failures.push(`database cleanup failed: ${String(error)}`));
    say(`  ✔ ${database.singleSession ? 'stopped the embedded database' : `dropped schema ${database.schema}`}`);
  }
  for (const failure of failures) say(`  ✘ ${failure}`);
  failures.push(...(report?.checks.filter((check) => check.outcome === 'failed').map((check) => check.name) ?? []));
  if (failures.length > 0) {
    for (const app of apps) say(`\n--- last lines of ${app.name} ---\n${app.output.slice(-15).join('\n')}`);
  }
  say(failures.length === 0 ? '\nAll invariants hold.' : `\n${failures.length} invariant(s) failed.`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
