import type { OnModuleDestroy } from '@nestjs/common';
import type { Attributes, Span, SpanKind, Tracer } from '@opentelemetry/api';
import type { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { RedisInstrumentationEvents } from '../instrumentation/redis-instrumentation.events.js';
import type { OtelApi } from './otel-api.loader.js';
import { OtelTransportTracer } from './otel-transport.tracer.js';
import { ATTR, REDIS_SYSTEM } from './tracing.constants.js';

/** The resolved `RedisTracingOptions`. */
export interface ResolvedTracingOptions {
  recordCacheKeys: boolean;
}

/**
 * Turns the library's instrumentation events into spans, and installs the transport's trace hooks: one per
 * application (`RedisTracingModule` makes it). Cache lookups and lock waits and holds are reported when they end
 * (their event carries the duration), so their spans are drawn from `now - duration` to now under the span active
 * when the operation ran; a rate-limit decision becomes an event on the active span.
 */
export class RedisTracing implements OnModuleDestroy {
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
    private readonly instrumentation: RedisInstrumentation,
    private readonly options: ResolvedTracingOptions,
  ) {}

  /** Subscribes to the events and installs the transport tracer (once). */
  start(): void {
    if (this.stops.length > 0) return;
    const { instrumentation } = this;
    this.stops.push(
      instrumentation.useTransportTracer(new OtelTransportTracer(this.api, this.tracer)),
      instrumentation.on('cache.lookup', (event) => this.cacheLookup(event)),
      instrumentation.on('lock.acquired', (event) => this.lockAcquired(event)),
      instrumentation.on('lock.failed', (event) => this.lockFailed(event)),
      instrumentation.on('lock.released', (event) => this.lockReleased(event)),
      instrumentation.on('rate-limit.decision', (event) => this.rateLimitDecision(event)),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private cacheLookup(event: RedisInstrumentationEvents['cache.lookup']): void {
    const span = this.pastSpan(`cache.lookup ${event.cache}`, event.durationMs, {
      [ATTR.dbSystem]: REDIS_SYSTEM,
      [ATTR.dbOperation]: 'cache.lookup',
      [ATTR.cacheName]: event.cache,
      [ATTR.cacheOutcome]: event.outcome,
    });
    if (span === undefined) return;
    if (this.options.recordCacheKeys) span.setAttribute(ATTR.cacheKey, event.key);
    if (event.tier !== undefined) span.setAttribute(ATTR.cacheTier, event.tier);
    // Failing open is not failing: the caller got its value from the loader. Recorded, not an error status.
    if (event.readError !== undefined) {
      span.addEvent('nest_redis.cache.fail_open', { [ATTR.errorType]: event.readError });
    }
    if (event.outcome === 'error') span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'loader failed' });
    span.end();
  }

  private lockAcquired(event: RedisInstrumentationEvents['lock.acquired']): void {
    const span = this.pastSpan('lock.acquire', event.waitMs, this.lockAttributes(event.mode, event.resource));
    if (span === undefined) return;
    span.setAttributes({ [ATTR.lockOutcome]: 'acquired', [ATTR.lockWaitMs]: event.waitMs });
    if (event.fencingToken !== undefined) span.setAttribute(ATTR.lockFencingToken, event.fencingToken);
    span.end();
  }

  private lockFailed(event: RedisInstrumentationEvents['lock.failed']): void {
    const span = this.pastSpan('lock.acquire', event.waitMs, this.lockAttributes(event.mode, event.resource));
    if (span === undefined) return;
    span.setAttributes({
      [ATTR.lockOutcome]: 'failed',
      [ATTR.lockWaitMs]: event.waitMs,
      [ATTR.errorType]: event.reason,
    });
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: event.reason });
    span.end();
  }

  private lockReleased(event: RedisInstrumentationEvents['lock.released']): void {
    const span = this.pastSpan('lock.hold', event.heldMs, this.lockAttributes(event.mode, event.resource));
    if (span === undefined) return;
    span.setAttributes({
      [ATTR.lockOutcome]: event.outcome,
      [ATTR.lockHeldMs]: event.heldMs,
      [ATTR.lockFencingToken]: event.fencingToken,
    });
    if (event.outcome === 'lost') span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'lock lost' });
    span.end();
  }

  private rateLimitDecision(event: RedisInstrumentationEvents['rate-limit.decision']): void {
    const span = this.api.trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    span.addEvent('nest_redis.rate_limit.decision', {
      [ATTR.rateLimitName]: event.limit,
      [ATTR.rateLimitKind]: event.kind,
      [ATTR.rateLimitAllowed]: event.allowed,
      [ATTR.rateLimitDegraded]: event.degraded,
    });
  }

  private lockAttributes(mode: string, resource: string | undefined): Attributes {
    const attributes: Attributes = {
      [ATTR.dbSystem]: REDIS_SYSTEM,
      [ATTR.lockMode]: mode,
    };
    if (resource !== undefined) attributes[ATTR.lockResource] = resource;
    return attributes;
  }

  /**
   * A span for an operation that just ended after `durationMs`, under the span active when it ran; `undefined` when
   * nothing records (no SDK registered, or not sampled), so no attributes are built for nothing.
   */
  private pastSpan(name: string, durationMs: number, attributes: Attributes): Span | undefined {
    const now = Date.now();
    const kind: SpanKind = this.api.SpanKind.INTERNAL;
    const span = this.tracer.startSpan(name, { kind, startTime: now - durationMs, attributes });
    if (!span.isRecording()) return undefined;
    return span;
  }
}
