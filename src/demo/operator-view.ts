/**
 * What an operator would read on a dashboard, computed from the apps' `/metrics` (the Prometheus text the library
 * exports), not from in-process counters: the cache hit ratio of the API replicas, the p99 wait of acquired locks and
 * the worker's consumer lag.
 */
export interface OperatorView {
  /** hits / (hits + misses) over every cache of the API replicas; `undefined` before any cache read. */
  cacheHitRatio: number | undefined;
  cacheReads: number;
  /**
   * Upper bound of the histogram bucket holding the 99th percentile of acquired lock waits, in seconds (`Infinity`:
   * past the largest bucket, `lockWaitLargestBucketSeconds`).
   */
  lockWaitP99Seconds: number | undefined;
  lockWaitLargestBucketSeconds: number | undefined;
  locksAcquired: number;
  /** Entries not yet delivered to the worker's consumer group, summed over its streams. */
  transportLag: number | undefined;
  transportHandled: number;
}

/** One sample of the exposition text. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const sum = (samples: Sample[], name: string, where: (labels: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);

/**
 * The bucket bound holding quantile `q` of a cumulative histogram (its `_bucket` samples, summed by `le`): an upper
 * bound, as close as the buckets allow. `undefined` without observations.
 */
export function histogramQuantileUpperBound(buckets: Sample[], q: number): number | undefined {
  const byBound = new Map<number, number>();
  for (const bucket of buckets) {
    const bound = bucket.labels.le === '+Inf' ? Infinity : Number(bucket.labels.le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + bucket.value);
  }
  const sorted = [...byBound].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  return sorted.find(([, count]) => count >= q * total)?.[0];
}

/**
 * Reads the operator view from the `/metrics` of the API replicas and of the worker replicas.
 *
 * @param prefix the metrics prefix the apps use
 */
export async function readOperatorView(
  apiMetricsUrls: string[],
  workerMetricsUrls: string[],
  prefix = 'nest_redis_',
): Promise<OperatorView> {
  const scrape = async (url: string) =>
    parseExposition(await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text());
  const apis = (await Promise.all(apiMetricsUrls.map(scrape))).flat();
  const workers = await Promise.all(workerMetricsUrls.map(scrape));
  const hits = sum(apis, `${prefix}cache_hits_total`);
  const misses = sum(apis, `${prefix}cache_misses_total`);
  const waits = apis.filter((s) => s.name === `${prefix}lock_wait_seconds_bucket` && s.labels.outcome === 'acquired');
  // Every worker replica reports the lag of the same consumer groups: the largest report is the lag.
  const lags = workers
    .map((worker) => worker.filter((s) => s.name === `${prefix}transport_consumer_lag`))
    .filter((series) => series.length > 0)
    .map((series) => series.reduce((total, s) => total + s.value, 0));
  return {
    cacheHitRatio: hits + misses === 0 ? undefined : hits / (hits + misses),
    cacheReads: hits + misses,
    lockWaitP99Seconds: histogramQuantileUpperBound(waits, 0.99),
    lockWaitLargestBucketSeconds: waits.reduce<number | undefined>((max, s) => {
      const bound = Number(s.labels.le);
      return Number.isFinite(bound) && (max === undefined || bound > max) ? bound : max;
    }, undefined),
    locksAcquired: sum(apis, `${prefix}lock_acquisitions_total`),
    transportLag: lags.length === 0 ? undefined : Math.max(...lags),
    transportHandled: sum(workers.flat(), `${prefix}transport_messages_handled_total`),
  };
}

/** The operator view as summary lines. */
export function formatOperatorView(view: OperatorView): string[] {
  const ratio = view.cacheHitRatio === undefined ? 'no reads' : `${(view.cacheHitRatio * 100).toFixed(1)}%`;
  const p99 =
    view.lockWaitP99Seconds === undefined
      ? 'no lock acquired'
      : view.lockWaitP99Seconds === Infinity
        ? `> ${(view.lockWaitLargestBucketSeconds ?? 0) * 1000} ms (the largest bucket)`
        : `≤ ${view.lockWaitP99Seconds * 1000} ms`;
  return [
    `  cache hit ratio  ${ratio} of ${view.cacheReads} cache reads (both API replicas)`,
    `  lock wait p99    ${p99} over ${view.locksAcquired} acquired locks (histogram bucket bound)`,
    `  transport        lag ${view.transportLag ?? 'unknown'} entries, ${view.transportHandled} messages handled by the workers`,
  ];
}
