/**
 * `npm run bench -- <suite> [--duration ms] [--rounds n] [--json-only]`: runs one benchmark suite against the Redis
 * at REDIS_URL (starting a local one if none answers), prints a table and writes the JSON report to
 * `bench/results/`. Progress goes to stderr so stdout holds only the table (or, with --json-only, the JSON).
 * Exit codes: 0 done, 1 the suite failed, 2 bad arguments or unknown suite.
 */
import { fileURLToPath } from 'node:url';
import { ensureRedis } from '../src/dev-services/ensure-redis.js';
import type { MeasurementPlan, SuiteReport } from './harness/bench-report.interface.js';
import { readBenchEnvironment } from './harness/bench-environment.js';
import { formatReportTable } from './harness/format-table.js';
import { BENCH_USAGE, type BenchArgs, parseBenchArgs } from './harness/parse-bench-args.js';
import { runSuiteCases } from './harness/run-suite.js';
import { writeReport } from './harness/write-report.js';
import { benchSuites } from './suites/index.js';

const RESULTS_DIRECTORY = fileURLToPath(new URL('./results/', import.meta.url));

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function usageError(message: string): void {
  log(message);
  log(BENCH_USAGE);
  log(`Available suites: ${Object.keys(benchSuites).join(', ')}`);
  process.exitCode = 2;
}

async function runBench(args: BenchArgs, suiteName: string): Promise<void> {
  const suite = await benchSuites[suiteName]();
  const { url: redisUrl } = await ensureRedis(undefined, log);
  const environment = await readBenchEnvironment(redisUrl);
  const plan: MeasurementPlan = {
    durationMs: args.durationMs,
    warmupMs: args.warmupMs,
    rounds: args.rounds,
    keep: 'best',
  };

  const session = await suite.setup({ redisUrl, log });
  let report: SuiteReport;
  try {
    const cases = await runSuiteCases(session.cases, plan, (c, round, m) =>
      log(`  round ${round + 1}/${plan.rounds}  ${c.group} › ${c.name}: ${Math.round(m.opsPerSec)} ops/s`),
    );
    report = { suite: suiteName, description: suite.description, environment, plan, cases };
  } finally {
    await session.teardown();
  }

  const path = await writeReport(report, RESULTS_DIRECTORY);
  if (args.jsonOnly) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${formatReportTable(report)}\n\nJSON: ${path}\n`);
  }
}

async function main(argv: string[]): Promise<void> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (args.suite === undefined) return usageError('No suite given.');
  if (!Object.hasOwn(benchSuites, args.suite)) return usageError(`Unknown suite "${args.suite}".`);
  try {
    await runBench(args, args.suite);
  } catch (error) {
    log(`Benchmark "${args.suite}" failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  }
}

await main(process.argv.slice(2));
