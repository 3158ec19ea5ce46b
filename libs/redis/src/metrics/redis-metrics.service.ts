import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ConsumerLagSource } from './redis-metrics-options.interface.js';
import { METRIC_NAMES } from './metric-names.js';
import { REDIS_METRICS_OPTIONS, REDIS_METRICS_REGISTRY } from './redis-metrics.constants.js';

/** Resolved metrics options. */
export interface ResolvedMetricsOptions {
  prefix: string;
  durationBuckets: number[];
}

/** Counters a capability keeps itself (plain numbers on the hot path), read at scrape time. */
export type CounterSnapshotSource = () => Record<
  string,
  { hits: number; misses: number; stale: number; loads: number; errors: number }
>;

/**
 * Turns the library's instrumentation events into Prometheus metrics on the injected registry, and reads the
 * counters capabilities keep themselves (cache hits, misses…) and the consumer lag of streams servers at scrape
 * time. Names are listed in {@link METRIC_NAMES}.
 */
@Injectable()
export class RedisMetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly unsubscribe: Array<() => void> = [];
  private readonly cacheSources = new Set<CounterSnapshotSource>();
  private readonly lagSources = new Set<ConsumerLagSource>();

  constructor(
    @Inject(REDIS_METRICS_REGISTRY) readonly registry: Registry,
    @Inject(REDIS_METRICS_OPTIONS) private readonly options: ResolvedMetricsOptions,
    private readonly instrumentation: RedisInstrumentation,
  ) {}

  /** The text exposition format, for a `/metrics` endpoint. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Adds a source of per-cache counters read at every scrape. */
  addCacheCounters(source: CounterSnapshotSource): void {
    this.cacheSources.add(source);
  }

  /** Adds a source of consumer lag read at every scrape (streams transport servers). */
  addConsumerLagSource(source: ConsumerLagSource): () => void {
    this.lagSources.add(source);
    return () => this.lagSources.delete(source);
  }

  onModuleInit(): void {
    const name = (key: keyof typeof METRIC_NAMES) => this.options.prefix + METRIC_NAMES[key];
    const registers = [this.registry];
    const buckets = this.options.durationBuckets;

    const cacheCounter = (
      key: keyof typeof METRIC_NAMES,
      help: string,
      field: 'hits' | 'misses' | 'stale' | 'loads' | 'errors',
    ) => {
      const sources = this.cacheSources;
      return new Counter({
        name: name(key),
        help,
        labelNames: ['cache'],
        registers,
        collect() {
          this.reset();
          for (const source of sources) {
            for (const [cache, counters] of Object.entries(source())) this.inc({ cache }, counters[field]);
          }
        },
      });
    };
    cacheCounter('cacheHits', 'Cache reads served from the cache (L1 or Redis).', 'hits');
    cacheCounter('cacheMisses', 'Cache reads that found nothing and ran the loader.', 'misses');
    cacheCounter('cacheStale', 'Cache reads served a stale value (stale-while-revalidate or grace).', 'stale');
    cacheCounter('cacheLoads', 'Loader runs.', 'loads');
    cacheCounter('cacheErrors', 'Cache operations that failed and were served fail-open.', 'errors');
    const loadDuration = new Histogram({
      name: name('cacheLoadDuration'),
      help: 'Duration of cache loader runs.',
      labelNames: ['cache', 'outcome'],
      buckets,
      registers,
    });

    const acquisitions = new Counter({
      name: name('lockAcquisitions'),
      help: 'Locks acquired.',
      labelNames: ['mode'],
      registers,
    });
    const failures = new Counter({
      name: name('lockFailures'),
      help: 'Lock acquisitions that failed, by reason.',
      labelNames: ['mode', 'reason'],
      registers,
    });
    const losses = new Counter({
      name: name('lockLosses'),
      help: 'Held locks lost before release.',
      labelNames: ['mode'],
      registers,
    });
    const wait = new Histogram({
      name: name('lockWait'),
      help: 'Time spent waiting to acquire a lock (acquired or not).',
      labelNames: ['mode', 'outcome'],
      buckets,
      registers,
    });

    const handled = new Counter({
      name: name('transportHandled'),
      help: 'Transport messages handled successfully.',
      labelNames: ['pattern', 'mode'],
      registers,
    });
    const failed = new Counter({
      name: name('transportFailed'),
      help: 'Transport handler runs that threw.',
      labelNames: ['pattern', 'mode'],
      registers,
    });
    const deadLettered = new Counter({
      name: name('transportDeadLettered'),
      help: 'Transport messages moved to the dead-letter stream.',
      labelNames: ['pattern', 'mode'],
      registers,
    });
    const handlerDuration = new Histogram({
      name: name('transportHandlerDuration'),
      help: 'Duration of transport handler runs.',
      labelNames: ['pattern', 'mode', 'outcome'],
      buckets,
      registers,
    });
    const lagSources = this.lagSources;
    new Gauge({
      name: name('transportConsumerLag'),
      help: 'Entries of a stream not yet delivered to a consumer group.',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        this.reset();
        for (const source of lagSources) {
          for (const { stream, group, lag } of await source().catch(() => [])) this.set({ stream, group }, lag);
        }
      },
    });

    const connectionErrors = new Counter({
      name: name('connectionErrors'),
      help: 'Errors emitted by Redis connections.',
      labelNames: ['connection'],
      registers,
    });
    const reconnects = new Counter({
      name: name('connectionReconnects'),
      help: 'Reconnection attempts of Redis connections.',
      labelNames: ['connection'],
      registers,
    });

    const on = this.instrumentation.on.bind(this.instrumentation);
    this.unsubscribe.push(
      on('cache.load', ({ cache, durationMs, failed: loadFailed }) =>
        loadDuration.observe({ cache, outcome: loadFailed ? 'failed' : 'ok' }, durationMs / 1000),
      ),
      on('lock.acquired', ({ mode, waitMs }) => {
        acquisitions.inc({ mode });
        wait.observe({ mode, outcome: 'acquired' }, waitMs / 1000);
      }),
      on('lock.failed', ({ mode, reason, waitMs }) => {
        failures.inc({ mode, reason });
        wait.observe({ mode, outcome: 'failed' }, waitMs / 1000);
      }),
      on('lock.lost', ({ mode }) => losses.inc({ mode })),
      on('transport.handled', ({ pattern, mode, durationMs, outcome }) => {
        const labels = { pattern, mode };
        if (outcome === 'ok') handled.inc(labels);
        else failed.inc(labels);
        if (outcome === 'dead-lettered') deadLettered.inc(labels);
        handlerDuration.observe({ ...labels, outcome }, durationMs / 1000);
      }),
      on('connection.error', ({ connection }) => connectionErrors.inc({ connection })),
      on('connection.reconnecting', ({ connection }) => reconnects.inc({ connection })),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe.splice(0).forEach((off) => off());
    for (const key of Object.keys(METRIC_NAMES) as Array<keyof typeof METRIC_NAMES>) {
      this.registry.removeSingleMetric(this.options.prefix + METRIC_NAMES[key]);
    }
  }
}
