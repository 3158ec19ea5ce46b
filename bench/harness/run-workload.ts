import type { RoundMeasurement } from './bench-report.interface.js';
import { CostMeter, type CostSnapshot } from './cost-meter.js';
import { LatencyHistogram } from './latency-histogram.js';

/** How long and how hard to drive one workload. */
export interface WorkloadOptions {
  /** Operations kept in flight; `1` is sequential. */
  concurrency: number;
  /** Untimed run before the measured window, in ms: lets connections, JIT and Redis settle at this load. */
  warmupMs: number;
  /** Measured window, in ms. */
  durationMs: number;
  /** Reads the CPU and command counters when the window opens and after its last operation. */
  meter?: CostMeter;
}

const NS_PER_MS = 1e6;

/**
 * Runs `operation` as a closed loop of `concurrency` in-flight operations: warm-up, then the measured window,
 * without pausing in between so the window starts at steady state. An operation counts when it completes inside
 * the window; no new one starts after the window ends, and the window is extended to the last completion so
 * ops/s divides by the time really spent. The first error stops every loop and is rethrown. With a `meter`, the
 * CPU and command counters are read when the window opens (a timer) and after the last operation, and divided by the
 * operations completed in between.
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
  let completed = 0;
  let opened: Promise<{ snapshot: CostSnapshot; completed: number }> | undefined;
  const meterTimer =
    options.meter &&
    setTimeout(() => {
      const atOpen = completed;
      opened = options.meter!.snapshot().then((snapshot) => ({ snapshot, completed: atOpen }));
    }, options.warmupMs);

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
      completed++;
      if (end >= windowStart) {
        histogram.record(Number(end - begin));
        if (end > lastCompletion) lastCompletion = end;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, loop));
  } finally {
    clearTimeout(meterTimer);
  }
  let cost: RoundMeasurement['cost'];
  if (options.meter && opened) {
    const start = await opened;
    cost = CostMeter.perOperation(start.snapshot, await options.meter.snapshot(), completed - start.completed);
  }
  const elapsedMs = Number(lastCompletion - windowStart) / NS_PER_MS;
  return {
    operations: histogram.count,
    elapsedMs,
    opsPerSec: elapsedMs > 0 ? (histogram.count * 1_000) / elapsedMs : 0,
    p50Ms: histogram.percentile(0.5) / NS_PER_MS,
    p99Ms: histogram.percentile(0.99) / NS_PER_MS,
    maxMs: histogram.max / NS_PER_MS,
    meanMs: histogram.mean / NS_PER_MS,
    ...(cost && { cost }),
  };
}

/**
 * Runs `count` operations with `concurrency` of them in flight (a closed loop, no timing): the fixed-size runs of the
 * probes and profile scripts, which divide a counter read around it by `count`.
 *
 * @param operation one operation; receives its index, 0 to `count` − 1
 */
export async function runOperations(
  count: number,
  concurrency: number,
  operation: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
}
