import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CacheMetrics } from '../cache/cache-metrics.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import type { ConsumerLagSource } from './redis-metrics-options.interface.js';
import { METRIC_NAMES } from './metric-names.js';
import { REDIS_METRICS_OPTIONS, REDIS_METRICS_REGISTRY } from './redis-metrics.constants.js';

/** Resolved metrics options. */
export interface ResolvedMetricsOptions {
  prefix: string;
  durationBuckets: number[];
}

/** One cache name's counters, as the cache keeps them. */
export interface CacheCounterSnapshot {
  hits: number;
  misses: number;
  stale: number;
  loads: number;
  errors: number;
}

/** Counters a capability keeps itself (plain numbers on the hot path), read at scrape time. */
export type CounterSnapshotSource = () => Record<string, CacheCounterSnapshot>;

/** The part of `RedisModule`'s resolved options read to start known label sets at 0. */
interface ModuleLabelSource {
  connections: ReadonlyMap<string, unknown>;
  lock?: { nodes: readonly unknown[] };
}

/** Why a lock acquisition fails, per mode (`LockNotAcquiredReason`): the label sets started at 0. */
const LOCK_FAILURE_REASONS = {
  single: ['contention', 'unreachable', 'aborted'],
  redlock: ['contention', 'no-quorum', 'aborted'],
} as const;

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

  /** @internal Nest injects the collaborators; construct through `RedisMetricsModule`, never with `new`. */
  constructor(
    @Inject(REDIS_METRICS_REGISTRY) readonly registry: Registry,
    @Inject(REDIS_METRICS_OPTIONS) private readonly options: ResolvedMetricsOptions,
    private readonly instrumentation: RedisInstrumentation,
    // The module's own cache counters are read without any wiring by the app; optional so that a RedisModule
    // registered with isGlobal: false does not break metrics.
    @Optional() cacheMetrics?: CacheMetrics,
    // Read once at startup to start the known label sets at 0 (connection names, the lock mode).
    @Optional() @Inject(REDIS_RESOLVED_OPTIONS) private readonly moduleOptions?: ModuleLabelSource,
  ) {
    if (cacheMetrics) this.addCacheCounters(() => cacheMetrics.snapshot());
  }

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
    const registers = [this.registry];
    const name = (key: keyof typeof METRIC_NAMES) => this.options.prefix + METRIC_NAMES[key];
    const counter = (key: keyof typeof METRIC_NAMES, help: string, labelNames: string[]) =>
      new Counter({ name: name(key), help, labelNames, registers });
    const histogram = (key: keyof typeof METRIC_NAMES, help: string, labelNames: string[]) =>
      new Histogram({ name: name(key), help, labelNames, buckets: this.options.durationBuckets, registers });

    const cacheSources = this.cacheSources;
    const cacheCounter = (key: keyof typeof METRIC_NAMES, help: string, field: keyof CacheCounterSnapshot) =>
      new Counter({
        name: name(key),
        help,
        labelNames: ['cache'],
        registers,
        collect() {
          this.reset();
          for (const source of cacheSources) {
            for (const [cache, counters] of Object.entries(source())) this.inc({ cache }, counters[field]);
          }
        },
      });
    cacheCounter('cacheHits', 'Cache reads served from the cache (L1 or Redis).', 'hits');
    cacheCounter('cacheMisses', 'Cache reads that found nothing and ran the loader.', 'misses');
    cacheCounter('cacheStale', 'Cache reads served a stale value (stale-while-revalidate or grace).', 'stale');
    cacheCounter('cacheLoads', 'Loader runs.', 'loads');
    cacheCounter('cacheErrors', 'Cache operations that failed and were served fail-open.', 'errors');
    const loadDuration = histogram('cacheLoadDuration', 'Duration of cache loader runs.', ['cache', 'outcome']);

    const acquisitions = counter('lockAcquisitions', 'Locks acquired.', ['mode']);
    const failures = counter('lockFailures', 'Lock acquisitions that failed, by reason.', ['mode', 'reason']);
    const losses = counter('lockLosses', 'Held locks lost before release.', ['mode']);
    const wait = histogram('lockWait', 'Time spent waiting to acquire a lock, by outcome (acquired, failed).', [
      'mode',
      'outcome',
    ]);

    const patternLabels = ['pattern', 'mode'];
    const handled = counter('transportHandled', 'Transport messages handled successfully.', patternLabels);
    const failed = counter('transportFailed', 'Transport handler runs that threw.', patternLabels);
    const deadLettered = counter(
      'transportDeadLettered',
      'Transport messages moved to the dead-letter stream.',
      patternLabels,
    );
    const handlerDuration = histogram('transportHandlerDuration', 'Duration of transport handler runs.', [
      ...patternLabels,
      'outcome',
    ]);
    // Sources added here, and those the transport registered on the instrumentation hub (`RedisTransportServer.fromApp`).
    const lagSources = () => [...this.lagSources, ...this.instrumentation.consumerLagSources];
    new Gauge({
      name: name('transportConsumerLag'),
      help: 'Entries of a stream not yet delivered to a consumer group.',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        this.reset();
        for (const source of lagSources()) {
          for (const { stream, group, lag } of await source().catch(() => [])) this.set({ stream, group }, lag);
        }
      },
    });

    const rateLimitLabels = ['limit', 'kind'];
    const rateLimitAllowed = counter('rateLimitAllowed', 'Calls a rate limit allowed (fail-open ones included).', [
      ...rateLimitLabels,
    ]);
    const rateLimitRejected = counter('rateLimitRejected', 'Calls a rate limit refused (fail-closed ones included).', [
      ...rateLimitLabels,
    ]);
    const rateLimitErrors = counter(
      'rateLimitErrors',
      'Rate limit decisions Redis could not make (error or commandTimeout): the failure policy decided.',
      rateLimitLabels,
    );

    const connectionErrors = counter('connectionErrors', 'Errors emitted by Redis connections.', ['connection']);
    const reconnects = counter('connectionReconnects', 'Reconnection attempts of Redis connections.', ['connection']);
    const rejected = counter(
      'untrustedInputRejected',
      'Malformed messages, entries or values read from Redis and dropped (or dead-lettered), by where they were read.',
      ['source'],
    );

    // Known label sets start at 0: a series that appears only with its first event hides that event from rate(),
    // and an alert on `increase(...) > 0` would never see the first lock failure or dead letter.
    for (const connection of this.moduleOptions?.connections.keys() ?? []) {
      connectionErrors.inc({ connection }, 0);
      reconnects.inc({ connection }, 0);
    }
    if (this.moduleOptions?.lock) {
      // As LockService decides: Redlock when `lock.nodes` is configured.
      const mode = this.moduleOptions.lock.nodes.length > 0 ? 'redlock' : 'single';
      acquisitions.inc({ mode }, 0);
      losses.inc({ mode }, 0);
      for (const reason of LOCK_FAILURE_REASONS[mode]) failures.inc({ mode, reason }, 0);
      for (const outcome of ['acquired', 'failed']) wait.zero({ mode, outcome });
    }

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
      on('transport.listening', ({ mode, patterns }) => {
        for (const pattern of patterns) {
          const labels = { pattern, mode };
          handled.inc(labels, 0);
          failed.inc(labels, 0);
          deadLettered.inc(labels, 0);
          for (const outcome of ['ok', 'failed', 'dead-lettered']) handlerDuration.zero({ ...labels, outcome });
        }
      }),
      on('transport.handled', ({ pattern, mode, durationMs, outcome }) => {
        const labels = { pattern, mode };
        if (outcome === 'ok') handled.inc(labels);
        else failed.inc(labels);
        if (outcome === 'dead-lettered') deadLettered.inc(labels);
        handlerDuration.observe({ ...labels, outcome }, durationMs / 1000);
      }),
      on('rate-limit.decision', ({ limit, kind, allowed, degraded }) => {
        (allowed ? rateLimitAllowed : rateLimitRejected).inc({ limit, kind });
        if (degraded) rateLimitErrors.inc({ limit, kind });
      }),
      on('connection.error', ({ connection }) => connectionErrors.inc({ connection })),
      on('connection.reconnecting', ({ connection }) => reconnects.inc({ connection })),
      on('input.rejected', ({ source }) => rejected.inc({ source })),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe.splice(0).forEach((off) => off());
    for (const key of Object.keys(METRIC_NAMES) as Array<keyof typeof METRIC_NAMES>) {
      this.registry.removeSingleMetric(this.options.prefix + METRIC_NAMES[key]);
    }
  }
}
