import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { DEMO_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { ensureRedis } from '../dev-services/ensure-redis.js';
import { AppProcess } from './app-process.js';
import { runBookingScenario, type ScenarioReport } from './booking-scenario.js';
import { formatOperatorView, readOperatorView } from './operator-view.js';
import { serveEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database.js';
import { runHoldsScenario, type HoldsScenarioReport } from './holds-scenario.js';
import { ProgressLine } from './progress-line.js';
import { sql } from './sql-client.js';
import { findBookingTrace, formatTraceTree, readSpanFiles } from './trace-tree.js';

/**
 * `npm run demo`: builds booking-api and booking-worker, makes sure Redis answers (starting a local one if none
 * does), provides the database (PostgreSQL from `DATABASE_URL` in a fresh schema, or an embedded PGlite served over
 * the wire), runs two API replicas and two worker replicas as separate processes under a fresh key prefix, plays the
 * booking scenario (`booking-scenario.ts`) then the seat-holds scenario (`holds-scenario.ts`), prints a summary
 * (with one confirmed booking's trace, read back from the spans each app appended to its `TRACES_FILE`) and
 * stops everything it started. Exits non-zero when an invariant fails.
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

/** Demo settings of the apps that the holds scenario needs to know. */
const HOLD_TTL_MS = 10_000;
const RATE_LIMIT = 10;

function printSummary(
  report: ScenarioReport | undefined,
  holds: HoldsScenarioReport | undefined,
  health: string[],
  operator: string[],
  traced: TraceSummary,
): void {
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
  }
  if (holds) {
    say(
      `  seat holds       ${holds.holds.placed} held, ${holds.holds.confirmed} confirmed, ${holds.holds.cancelled} ` +
        `cancelled, ${holds.holds.released} expired and released by the workers`,
    );
    say(
      `  rate limits      ${holds.rateLimited.clients} clients over the limit: ${holds.rateLimited.refused} × 429 ` +
        `(expected ${holds.rateLimited.expected})`,
    );
    say(
      `  payments         ${holds.payments.calls} calls, at most ${holds.payments.mostAtOnce} at once ` +
        `(${holds.payments.permits} permits)`,
    );
    say(
      `  release job      ${holds.ticks.runs} runs over ${holds.ticks.span} ticks: ` +
        Object.entries(holds.ticks.perWorker)
          .map(([worker, runs]) => `${worker} ${runs}`)
          .join(', '),
    );
  }
  if (report || holds) say();
  for (const check of [...(report?.checks ?? []), ...(holds?.checks ?? []), ...traced.checks]) {
    say(`  ${check.outcome === 'ok' ? '✔' : '✘'} ${check.name} — ${check.detail}`);
  }
  if (operator.length > 0) {
    say("\nOperator view (read back from each app's /metrics, as Prometheus would scrape it)");
    for (const line of operator) say(line);
  }
  if (traced.tree.length > 0) {
    say("\nOne confirmed booking's trace (from the apps' TRACES_FILE spans; [process] where it changes)");
    for (const line of traced.tree) say(`  ${line}`);
  }
  for (const line of health) say(line);
}

/** The trace invariant and the printed tree. */
interface TraceSummary {
  checks: ScenarioReport['checks'];
  tree: string[];
}

/**
 * Reads back the spans the apps appended to their traces files and picks one confirmed booking whose trace
 * reaches a worker: `POST /bookings` (root) → lock, database, `emit booking.created` → the worker's
 * `process booking.created` (the emit's child, through the traceparent in the stream entry) → its script.
 */
function summariseTrace(files: Record<string, string>): TraceSummary {
  const name = "trace: one booking's trace spans the API and a worker";
  const trace = findBookingTrace(readSpanFiles(files));
  if (!trace) {
    return { checks: [{ name, outcome: 'failed', detail: 'no POST /bookings trace reaching a worker' }], tree: [] };
  }
  const linked = trace.emit !== undefined && trace.handler.parentSpanId === trace.emit.spanId;
  return {
    checks: [
      {
        name,
        outcome: linked && trace.processes.length >= 2 ? 'ok' : 'failed',
        detail:
          `${trace.spans.length} spans, ${trace.processes.length} processes (${trace.processes.join(', ')}); ` +
          `handler ${linked ? 'is' : 'is NOT'} the child of the emit span`,
      },
    ],
    tree: formatTraceTree(trace),
  };
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

  // Each app appends its finished spans to a file of its own (TRACES_FILE): read back for the summary.
  const tracesDir = mkdtempSync(join(tmpdir(), `demo-traces-${runId}-`));
  const tracesFile = (app: string) => join(tracesDir, `${app.replace(/\W+/g, '-').replace(/-$/, '')}.jsonl`);

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
    HOLD_TTL_MS: String(HOLD_TTL_MS),
    RATE_LIMIT_LIMIT: String(RATE_LIMIT),
    RATE_LIMIT_WINDOW_MS: '60000',
    PAYMENT_DELAY_MS: '100',
  };
  const [apiPortA, apiPortB] = [await freePort(), await freePort()];
  // Each process's management side (/metrics, health details) on a port of its own, as in a pod.
  const [managementA, managementB] = [await freePort(), await freePort()];
  const apis = [
    new AppProcess('booking-api #1', API_ENTRY, apiPortA, managementA, {
      ...shared,
      PORT: String(apiPortA),
      MANAGEMENT_PORT: String(managementA),
      TRACES_FILE: tracesFile('booking-api #1'),
    }),
    new AppProcess('booking-api #2', API_ENTRY, apiPortB, managementB, {
      ...shared,
      PORT: String(apiPortB),
      MANAGEMENT_PORT: String(managementB),
      TRACES_FILE: tracesFile('booking-api #2'),
    }),
  ];
  const workers: AppProcess[] = [];
  for (const n of [1, 2]) {
    const [port, management] = [await freePort(), await freePort()];
    workers.push(
      new AppProcess(`booking-worker #${n}`, WORKER_ENTRY, port, management, {
        ...shared,
        // The worker only reads the database (the hold-release job): a small pool.
        DATABASE_POOL_SIZE: '2',
        WORKER_ID: `booking-worker-${n}`,
        WORKER_PORT: String(port),
        WORKER_MANAGEMENT_PORT: String(management),
        TRACES_FILE: tracesFile(`booking-worker #${n}`),
      }),
    );
  }
  const isWorker = (app: AppProcess) => workers.includes(app);
  const apps = [...apis, ...workers];

  let report: ScenarioReport | undefined;
  let holds: HoldsScenarioReport | undefined;
  const health: string[] = [];
  const operator: string[] = [];
  let traced: TraceSummary = { checks: [], tree: [] };
  try {
    apps.forEach((app) => app.start());
    say(
      `Started ${apps.map((a) => `${a.name} on :${a.port} (management :${a.managementPort})`).join(', ')} ` +
        `(key prefix ${keyPrefix})`,
    );
    const ready = await Promise.all(apps.map((app) => app.waitHealthy(isWorker(app) ? '/health' : '/health/ready')));
    say('Where to look while it runs:');
    for (const app of apps) say(`  ${app.name.padEnd(15)} metrics ${app.managementUrl}/metrics`);
    say(
      '  dashboard and alert rules for these metrics: deploy/grafana, deploy/prometheus (docs/health-and-metrics.md)',
    );
    say(
      `  traces          ${tracesDir}/*.jsonl (one JSON span per line, per app; removed at the end; docs/tracing.md)`,
    );
    ready.forEach((result, i) => {
      if (result.status !== 200) failures.push(`${apps[i]!.name} did not become ready: ${JSON.stringify(result.body)}`);
    });
    if (failures.length === 0) {
      say(`\nScenario: 200 customers want the 10 seats of one slot, through both replicas at once`);
      const progress = new ProgressLine();
      report = await runBookingScenario(
        {
          apiUrls: apis.map((api) => api.baseUrl),
          workerUrl: workers[0]!.baseUrl,
          venueId: DEMO_VENUE_ID,
          date: new Date().toISOString().slice(0, 10),
          database: { url: database.url, schema: database.schema },
        },
        { onProgress: (phase, done, total, tally) => progress.update(phase, done, total, tally) },
      );
      say(
        `\nScenario: 60 customers race for the 50 seats of another slot with seat holds (ttl ${HOLD_TTL_MS / 1000} s); ` +
          `some confirm (payment), some cancel, the rest expire; 4 clients go over the limit of ${RATE_LIMIT}`,
      );
      holds = await runHoldsScenario(
        {
          apiUrls: apis.map((api) => api.baseUrl),
          workerUrls: workers.map((worker) => worker.baseUrl),
          venueId: DEMO_VENUE_ID,
          date: new Date().toISOString().slice(0, 10),
          database: { url: database.url, schema: database.schema },
          holdTtlMs: HOLD_TTL_MS,
          rateLimit: RATE_LIMIT,
        },
        { onProgress: (phase, done, total, tally) => progress.update(phase, done, total, tally) },
      );
      try {
        const view = await readOperatorView(
          apis.map((api) => `${api.managementUrl}/metrics`),
          workers.map((worker) => `${worker.managementUrl}/metrics`),
        );
        operator.push(...formatOperatorView(view));
      } catch (error) {
        operator.push(`  ✘ could not read /metrics: ${error instanceof Error ? error.message : String(error)}`);
      }
      for (const app of apps) {
        const result = await app.waitHealthy(isWorker(app) ? '/health' : '/health/ready', 5_000);
        const ok = result.status === 200;
        health.push(`  ${ok ? '✔' : '✘'} ${app.name.padEnd(15)} healthy at the end (GET /health → ${result.status})`);
        if (!ok) failures.push(`${app.name} is not healthy`);
      }
      traced = summariseTrace(Object.fromEntries(apps.map((app) => [app.name, tracesFile(app.name)])));
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    printSummary(report, holds, health, operator, traced);
    const codes = await Promise.all(apps.map((app) => app.stop()));
    const clean = codes.every((code) => code === 'SIGTERM' || code === 0);
    say(`  ${clean ? '✔' : '✘'} stopped the ${apps.length} apps (ended by ${codes.join(', ')})`);
    if (!clean) failures.push('an app did not shut down cleanly on SIGTERM');
    await database.stop().catch((error: unknown) => failures.push(`database cleanup failed: ${String(error)}`));
    say(`  ✔ ${database.singleSession ? 'stopped the embedded database' : `dropped schema ${database.schema}`}`);
    rmSync(tracesDir, { recursive: true, force: true });
    say(`  ✔ removed the traces (${tracesDir})`);
  }
  for (const failure of failures) say(`  ✘ ${failure}`);
  for (const checks of [report?.checks ?? [], holds?.checks ?? [], traced.checks]) {
    failures.push(...checks.filter((check) => check.outcome === 'failed').map((check) => check.name));
  }
  if (failures.length > 0) {
    for (const app of apps) say(`\n--- last lines of ${app.name} ---\n${app.output.slice(-15).join('\n')}`);
  }
  say(failures.length === 0 ? '\nAll invariants hold.' : `\n${failures.length} invariant(s) failed.`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
