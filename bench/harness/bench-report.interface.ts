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
  /** What one operation of the measured window cost (absent when the round was not metered). */
  cost?: OperationCost;
}

/**
 * CPU time per operation of every party, in µs, and Redis commands per operation. Unlike ops/s, these barely move
 * when other processes compete for the CPUs: a busy machine delays work but does not make it bigger.
 */
export interface OperationCost {
  /** This process (the clients, and for in-process suites the library itself): `process.cpuUsage()`. */
  benchUs: number;
  /** Child processes of the suite (servers): schedstat of each thread. */
  childrenUs: number;
  /** Every Redis the suite uses: `INFO cpu` (user + sys). */
  redisUs: number;
  /** The sum of the three. */
  totalUs: number;
  /** Commands Redis executed (`INFO commandstats` calls; a script's `redis.call`s count too). */
  redisCommands: number;
  /** Socket writes of this process: the round trips an operation waits for (pipelined commands share one). */
  socketWrites: number;
}

/**
 * A ratio of two cases' best rounds, and how far it could move: the sum of both cases' gaps between their best and
 * second-best round (relative). A best round the next one nearly repeats is a figure that holds still.
 */
export interface Spread {
  value: number;
  spread: number;
}

/**
 * One of our cases against the best rival of its group, by two measures, each from the cases' best rounds (noise
 * only lowers ops/s and only raises CPU per operation: context switches, cold caches, background work spread over
 * fewer operations). Both ratios read "above 1 is better for us": ops/s ours ÷ rival's, CPU per operation rival's ÷
 * ours.
 */
export interface Headline {
  group: string;
  case: string;
  /** The rival compared with: the one with the best median by the chosen measure. */
  rival: string;
  throughput: Spread;
  cpu?: Spread;
  /** The measure whose per-round ratio moved least, used as the headline. */
  chosen: 'ops/s' | 'CPU/op';
  ratio: number;
  target?: number;
  met?: boolean;
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
  /** Cost per operation of the round that cost least (absent when not metered). */
  cost?: OperationCost;
  /** How much more the second-cheapest round cost, relative: the stability of `cost`. */
  costSpread?: number;
  /** How much slower the second-best round was, relative: the stability of `opsPerSec`. */
  opsSpread: number;
  ours: boolean;
  target?: number;
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
  /** Our cases against their best rival, per group. */
  headlines: Headline[];
  /** Who was metered for the cost per operation. */
  metered: string[];
  /** Suite-specific lines (wait percentiles, fairness, probes). */
  notes: string[];
}
