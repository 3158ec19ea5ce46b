/** Latency and throughput of one measured round of one case. */
export interface RoundMeasurement {
  /** Operations completed inside the measured window. */
  operations: number;
  /** Length of the measured window, in ms. */
  elapsedMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** One row of the table: a case, the round kept for it and its ratio to the group's anchor. */
export interface CaseReport extends RoundMeasurement {
  group: string;
  name: string;
  anchor: boolean;
  concurrency: number;
  /** This case's ops/s ÷ the anchor's ops/s, both as kept from this run (1 for the anchor). */
  xAnchor: number;
  /** Every round measured, in the order run; the one kept is the one with the highest ops/s. */
  rounds: RoundMeasurement[];
}

/** How a suite was measured, stated in the table footer and the JSON. */
export interface MeasurementPlan {
  /** Measured window of each round, in ms. */
  durationMs: number;
  /** Untimed run before each round's window, in ms. */
  warmupMs: number;
  /** Rounds per case; within a group the order alternates (A B, then B A, …). */
  rounds: number;
  /** Which round a row shows. */
  keep: 'best';
}

/** Where and when a suite ran. */
export interface BenchEnvironment {
  /** ISO 8601 start time. */
  date: string;
  node: string;
  redis: string;
  platform: string;
  cpus: number;
  /** 1-minute load average when the run started: above the CPU count, other processes were competing. */
  loadAverage: number;
}

/** Everything one run of one suite produced: what `bench/results/<suite>-<timestamp>.json` holds. */
export interface SuiteReport {
  suite: string;
  description: string;
  environment: BenchEnvironment;
  plan: MeasurementPlan;
  cases: CaseReport[];
}
