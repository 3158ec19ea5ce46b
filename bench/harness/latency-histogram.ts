/**
 * Linear sub-buckets per power of two. 128 keeps every recorded value within 1/128 (< 0.8 %) of the truth while
 * the whole histogram stays a few thousand counters, whatever the number of operations.
 */
const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Highest power of two tracked (2^45 ns ≈ 9.8 h); slower values land in the last bucket, `max` stays exact. */
const MAX_EXPONENT = 45;
const BUCKET_COUNT = SUB_BUCKETS + (MAX_EXPONENT - SUB_BUCKET_BITS + 1) * SUB_BUCKETS;

/**
 * A log-linear latency histogram in nanoseconds (the HdrHistogram layout, reduced to what the benchmarks need):
 * values below 128 ns are exact, larger ones keep 7 significant bits. Percentiles are read from bucket midpoints;
 * `min`, `max` and `mean` are exact.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sum = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private highest = 0;

  /** Number of values recorded. */
  get count(): number {
    return this.total;
  }

  /** Smallest value recorded, in ns (0 when empty). */
  get min(): number {
    return this.total === 0 ? 0 : this.lowest;
  }

  /** Largest value recorded, in ns. */
  get max(): number {
    return this.highest;
  }

  /** Arithmetic mean of the values recorded, in ns (0 when empty). */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * Records one latency.
   * @param nanoseconds a non-negative duration, typically `Number(end - start)` of two `process.hrtime.bigint()`
   */
  record(nanoseconds: number): void {
    const value = Math.max(0, Math.round(nanoseconds));
    this.counts[bucketIndex(value)] += 1;
    this.total += 1;
    this.sum += value;
    if (value < this.lowest) this.lowest = value;
    if (value > this.highest) this.highest = value;
  }

  /**
   * The value at or below which `quantile` of the recorded values fall, in ns (0 when empty).
   * @param quantile between 0 and 1, e.g. `0.99` for p99
   */
  percentile(quantile: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(Math.max(quantile, 0), 1) * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index];
      if (seen >= rank) return Math.min(Math.max(bucketMidpoint(index), this.lowest), this.highest);
    }
    return this.highest;
  }
}

/** Exponent of the highest power of two not above `value` (value ≥ 1), exact even where `Math.log2` rounds. */
function exponentOf(value: number): number {
  let exponent = Math.floor(Math.log2(value));
  if (2 ** exponent > value) exponent -= 1;
  else if (2 ** (exponent + 1) <= value) exponent += 1;
  return exponent;
}

function bucketIndex(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const exponent = Math.min(exponentOf(value), MAX_EXPONENT);
  const width = 2 ** (exponent - SUB_BUCKET_BITS);
  const sub = Math.min(Math.floor(value / width) - SUB_BUCKETS, SUB_BUCKETS - 1);
  return SUB_BUCKETS + (exponent - SUB_BUCKET_BITS) * SUB_BUCKETS + sub;
}

function bucketMidpoint(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const exponent = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS) + SUB_BUCKET_BITS;
  const sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
  const width = 2 ** (exponent - SUB_BUCKET_BITS);
  return (SUB_BUCKETS + sub) * width + width / 2;
}
