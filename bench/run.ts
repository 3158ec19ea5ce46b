/**
 * `npm run bench -- <suite|all> [--duration ms] [--rounds n] [--json-only]`: runs one benchmark suite (or every one)
 * and prints a table per suite; writes each JSON report to `bench/results/`, and with `all` also
 * `docs/PERFORMANCE.md`. Uses the Redis at REDIS_URL when set (starting a local one if none answers there);
 * otherwise starts a throwaway `redis-server` for the run, so that its CPU and command counters count only the
 * bench's own work. Progress goes to stderr so stdout holds only the tables (or, with --json-only, the JSON).
 * Exit codes: 0 done, 1 a suite failed, 2 bad arguments or unknown suite.
 */
import { fileURLToPath } from 'node:url';
import { ensureRedis } from '../src/dev-services/ensure-redis.js';
import { RedisServerProcess } from '../test/harness/redis-server-process.js';
import type { MeasurementPlan, SuiteReport } from './harness/bench-report.interface.js';
import { readBenchEnvironment } from './harness/bench-environment.js';
import { CostMeter } from './harness/cost-meter.js';
import { formatReportTable } from './harness/format-table.js';
import { BENCH_USAGE, type BenchArgs, parseBenchArgs } from './harness/parse-bench-args.js';
import { headlines, runSuiteCases } from './harness/run-suite.js';
import { writePerformanceDoc } from './harness/write-performance-doc.js';
import { writeReport } from './harness/write-report.js';
import { benchSuites } from './suites/index.js';

const RESULTS_DIRECTORY = fileURLToPath(new URL('./results/', import.meta.url));
const PERFORMANCE_DOC = fileURLToPath(new URL('../docs/PERFORMANCE.md', import.meta.url));
/** Hand-written analysis of the figures (profiles, missed targets), carried into docs/PERFORMANCE.md. */
const PERFORMANCE_NOTES = fileURLToPath(new URL('./performance-notes.md', import.meta.url));
/** `npm run bench -- all` runs every registered suite, in registration order. */
const ALL = 'all';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function usageError(message: string): void {
  log(message);
  log(BENCH_USAGE);
  log(`Available suites: ${Object.keys(benchSuites).join(', ')}, or ${ALL}`);
  process.exitCode = 2;
}

async function runBench(args: BenchArgs, suiteName: string, redisUrl: string): Promise<SuiteReport> {
  const suite = await benchSuites[suiteName]();
  const environment = await readBenchEnvironment(redisUrl);
  const plan: MeasurementPlan = {
    durationMs: args.durationMs,
    warmupMs: args.warmupMs,
    rounds: args.rounds,
    keep: 'best',
  };

  log(`${suiteName}: setting up`);
  const session = await suite.setup({ redisUrl, log });
  let report: SuiteReport;
  const processes = session.involved?.processes ?? [];
  const redisUrls = [redisUrl, ...(session.involved?.redisUrls ?? [])];
  const meter = new CostMeter(
    redisUrls,
    processes.map((p) => p.pid),
  );
  try {
    const cases = await runSuiteCases(
      session.cases,
      plan,
      (c, round, m) =>
        log(
          `  round ${round + 1}/${plan.rounds}  ${c.group} › ${c.name}: ${Math.round(m.opsPerSec)} ops/s` +
            (m.cost ? `, ${m.cost.totalUs.toFixed(1)} µs CPU/op` : ''),
        ),
      meter,
    );
    report = {
      suite: suiteName,
      description: suite.description,
      environment,
      plan,
      cases,
      headlines: headlines(cases),
      metered: [
        'this process',
        ...processes.map((p) => `${p.name} (pid ${p.pid})`),
        `${redisUrls.length} Redis ${redisUrls.length === 1 ? 'server' : 'servers'}`,
      ],
      notes: [],
    };
  } finally {
    meter.close();
    await session.teardown();
  }
  report.notes.push(...(session.notes ?? []));

  const path = await writeReport(report, RESULTS_DIRECTORY);
  if (args.jsonOnly) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${formatReportTable(report)}\n\nJSON: ${path}\n`);
  }
  return report;
}

/** The Redis of the run: REDIS_URL's (started if need be), or a throwaway server nobody else uses. */
async function redisForRun(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) {
    const { url } = await ensureRedis(process.env.REDIS_URL, log);
    log(`Using REDIS_URL ${url}: its CPU and command counters include any other client's work.`);
    return { url, stop: async () => undefined };
  }
  const server = await RedisServerProcess.start();
  log(`Started a throwaway redis-server at ${server.url} for this run (set REDIS_URL to use another).`);
  return { url: server.url, stop: () => server.stop() };
}

async function main(argv: string[]): Promise<void> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (args.suite === undefined) return usageError('No suite given.');
  if (args.suite !== ALL && !Object.hasOwn(benchSuites, args.suite)) {
    return usageError(`Unknown suite "${args.suite}".`);
  }
  const names = args.suite === ALL ? Object.keys(benchSuites) : [args.suite];
  const redis = await redisForRun();
  const reports: SuiteReport[] = [];
  try {
    for (const name of names) {
      try {
        reports.push(await runBench(args, name, redis.url));
      } catch (error) {
        log(`Benchmark "${name}" failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exitCode = 1;
      }
    }
  } finally {
    await redis.stop();
  }
  if (args.suite === ALL && reports.length > 0) {
    await writePerformanceDoc(
      PERFORMANCE_DOC,
      reports,
      `npm run bench -- all --duration ${args.durationMs} --rounds ${args.rounds}`,
      PERFORMANCE_NOTES,
    );
    log(`Wrote ${PERFORMANCE_DOC}${reports.length < names.length ? ' (some suites failed: see above)' : ''}`);
  }
}

await main(process.argv.slice(2));
