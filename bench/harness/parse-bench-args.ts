import { parseArgs } from 'node:util';

/** The command line of `npm run bench -- <suite|all> [--duration ms] [--rounds n] [--json-only]`, checked. */
export interface BenchArgs {
  /** Suite name, as registered in `bench/suites/index.ts`; undefined when none was given. */
  suite?: string;
  /** Measured window of each round, in ms. */
  durationMs: number;
  /** Untimed warm-up before each round, in ms: a fifth of the window, at least 200 ms. */
  warmupMs: number;
  /** Rounds per case. */
  rounds: number;
  /** Print the JSON report on stdout instead of the table. */
  jsonOnly: boolean;
}

/** @default 600 */
export const DEFAULT_DURATION_MS = 600;
/**
 * Four short rounds rather than two long ones: on a shared machine a burst of load elsewhere spoils a round, and
 * best-of-four is more likely than best-of-two to keep a clean one for every case.
 * @default 4
 */
export const DEFAULT_ROUNDS = 4;

/** Usage line shown with argument errors. */
export const BENCH_USAGE = 'Usage: npm run bench -- <suite|all> [--duration ms] [--rounds n] [--json-only]';

function positiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} expects a positive integer, got "${text}".`);
  return value;
}

/**
 * Parses the benchmark command line.
 * @throws Error with a readable message on an unknown flag or a bad value
 */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      'json-only': { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`Expected one suite name, got: ${positionals.join(' ')}.`);
  const durationMs = positiveInteger(values.duration, '--duration', DEFAULT_DURATION_MS);
  return {
    suite: positionals[0],
    durationMs,
    warmupMs: Math.max(200, Math.round(durationMs / 5)),
    rounds: positiveInteger(values.rounds, '--rounds', DEFAULT_ROUNDS),
    jsonOnly: values['json-only'] === true,
  };
}
