/** One measured workload: an operation, how many of it run at once, and where it sits in the table. */
export interface BenchCase {
  /** Row label, e.g. `ioredis (new Redis)`. */
  name: string;
  /** Cases of one group are compared with each other, e.g. `GET · sequential`. */
  group: string;
  /**
   * The case the others of its group are compared with (`× anchor` = ops/s ÷ the anchor's ops/s). Exactly one per
   * group.
   * @default false
   */
  anchor?: boolean;
  /**
   * This library's case, whose ratio to the best rival (every case of its group not marked `ours`) is the group's
   * headline in `docs/PERFORMANCE.md`. When no case of a group is marked, every non-anchor case is compared with
   * the anchor.
   * @default false
   */
  ours?: boolean;
  /** The ratio to the best rival this case should reach (ops/s or CPU per operation, whichever holds stiller). */
  target?: number;
  /**
   * Operations kept in flight (closed loop: a new one starts as soon as one completes). `1` runs them one after
   * the other.
   * @default 1
   */
  concurrency?: number;
  /**
   * One operation. Its promise's settling is what is timed.
   * @param iteration a counter shared by the case's in-flight loops, for picking keys or payloads
   */
  run(iteration: number): Promise<unknown>;
}

/** What a suite gets from the runner. */
export interface SuiteContext {
  /** The Redis the suite must use; the runner has made sure something answers there. */
  redisUrl: string;
  /** Progress line for the operator (stderr), never part of the results. */
  log(line: string): void;
}

/** A suite once set up: its cases, and how to release everything it opened. */
export interface SuiteSession {
  cases: BenchCase[];
  /** Deletes the suite's keys and closes every client and application, so the process can exit by itself. */
  teardown(): Promise<void>;
  /**
   * Everything besides this process and the runner's Redis that works for the cases: child processes (their CPU
   * time is read from `/proc/<pid>/task/<tid>/schedstat`) and further Redis servers (their `INFO cpu` and
   * `INFO commandstats`). Their cost per operation is reported beside ops/s.
   */
  involved?: { processes?: Array<{ name: string; pid: number }>; redisUrls?: string[] };
  /** Lines the suite adds to its section of the report (wait percentiles, fairness, probes), filled by teardown at the latest. */
  notes?: string[];
}

/**
 * A benchmark suite, registered by name in `bench/suites/index.ts`.
 *
 * @example
 * ```ts
 * export const pingSuite: BenchSuite = {
 *   description: 'PING round trip',
 *   async setup({ redisUrl }) {
 *     const client = new Redis(redisUrl);
 *     return {
 *       cases: [{ name: 'ioredis', group: 'PING', anchor: true, run: () => client.ping() }],
 *       teardown: async () => void (await client.quit()),
 *     };
 *   },
 * };
 * ```
 */
export interface BenchSuite {
  /** One line saying what is compared, printed above the table. */
  description: string;
  /**
   * Opens clients, boots applications and seeds data. If it throws, it must first release what it opened: the
   * runner only tears down sessions it received.
   */
  setup(context: SuiteContext): Promise<SuiteSession>;
}
