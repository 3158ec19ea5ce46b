import type { RoundMeasurement } from './bench-report.interface.js';
import { LatencyHistogram } from './latency-histogram.js';

/** How long and how hard to drive one workload. */
export interface WorkloadOptions {
  /** Operations kept in flight; `1` is sequential. */
  concurrency: number;
  /** Untimed run before the measured window, in ms: lets connections, JIT and Redis settle at this load. */
  warmupMs: number;
  /** Measured window, in ms. */
  durationMs: number;
}

const NS_PER_MS = 1e6;

/**
 * Runs `operation` as a closed loop of `concurrency` in-flight operations: warm-up, then the measured window,
 * without pausing in between so the window starts at steady state. An operation counts when it completes inside
 * the window; no new one starts after the window ends, and the window is extended to the last completion so
 * ops/s divides by the time really spent. The first error stops every loop and is rethrown.
 *
 * @param operation one operation; receives a counter shared by all loops
 */
export async function runWorkload(
  operation: (iteration: number) => Promise<unknown>,
  options: WorkloadOptions,
): Promise<RoundMeasurement> {
  const histogram = new LatencyHistogram();
  const start = process.hrtime.bigint();
  const windowStart = start + BigInt(Math.round(options.warmupMs * NS_PER_MS));
  const windowEnd = windowStart + BigInt(Math.round(options.durationMs * NS_PER_MS));
  let iteration = 0;
  let failed = false;
  let lastCompletion = windowStart;

  const loop = async (): Promise<void> => {
    while (!failed) {
      const begin = process.hrtime.bigint();
      if (begin >= windowEnd) return;
      try {
        await operation(iteration++);
      } catch (error) {
        failed = true;
        throw error;
      }
      const end = process.hrtime.bigint();
      if (end >= windowStart) {
        histogram.record(Number(end - begin));
        if (end > lastCompletion) lastCompletion = end;
      }
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, loop));
  const elapsedMs = Number(lastCompletion - windowStart) / NS_PER_MS;
  return {
    operations: histogram.count,
    elapsedMs,
    opsPerSec: elapsedMs > 0 ? (histogram.count * 1_000) / elapsedMs : 0,
    p50Ms: histogram.percentile(0.5) / NS_PER_MS,
    p99Ms: histogram.percentile(0.99) / NS_PER_MS,
    maxMs: histogram.max / NS_PER_MS,
    meanMs: histogram.mean / NS_PER_MS,
  };
}
